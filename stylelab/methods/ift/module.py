"""Lightning plumbing of IFT: blockwise decoder training with L_AE, stylization options, CLI hooks.

The preset chooses the network: the four reference tables run on :class:`IFTNet` (trained decoder
blocks, a checkpoint of ``stylelab fit``), ``pretrained_r31`` on :class:`IFTR31Net` (the shipped relu3_1
encoder/decoder pair: no training, no checkpoint; with ``fine_tune_decoder`` its decoder is fine-tuned
with L_AE, the model zoo's ``configs/zoo/ift.yaml``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor

from stylelab.methods.base import StyleTransferMethod
from stylelab.methods.ift.cli import add_arguments, options_to_kwargs, stylize_files
from stylelab.methods.ift.model import PIPELINES, FeatureNorm, IFTNet, Pipeline
from stylelab.methods.ift.presets import (
    DEFAULT_PRESET,
    LEVELS,
    PRESET_STEP_RULE,
    LevelSetting,
    Network,
    network_of,
    parse_level_values,
    resolve_levels,
)
from stylelab.methods.ift.pretrained import IFTR31Net
from stylelab.methods.ift.transform import OnDivergence, Transform
from stylelab.ops.ift import StepRule, Unmatched

LevelSpec = str | float | Sequence[float] | Mapping[str, float] | None


class IFT(StyleTransferMethod):
    """Iterative feature transformation (Chiu & Gurari, ECCV 2020) as a stylelab method.

    Training fits the decoder blocks with the supplement's L_AE, blockwise from relu1_1 (block
    relu1_1->RGB) upward, each stage training only its own block ([proposal]; the training code was not
    released). Inference needs no style training: any style, several weighted styles, masks.

    Args:
        encoder_weights: VGG-19 weights registry name (``None``: random init, tests only); ignored by
            ``pretrained_r31``.
        encoder_padding: ``"reflect"`` (reference) or ``"zero"``; ignored by ``pretrained_r31``.
        feature_norm: ``"mean_activation"`` (vgg_normalised units; see :mod:`.model`) or ``"none"``;
            ignored by ``pretrained_r31`` (its features are vgg_normalised already).
        preset: Default per-level (lambda, n_upd) table, which also chooses the network:
            ``photorealistic`` (default), ``conservative``, ``demo``, ``reference`` (trained decoder
            blocks), or ``pretrained_r31`` (relu3_1 of the shipped encoder/decoder pair, no training).
        lam: Default per-level lambda overrides (``"relu4_1=50"``, four values, or one value).
        n_upd: Default per-level update-count overrides (same forms).
        n_iter: Outer re-anchoring rounds [inferred]; 1 = reference code.
        step: Fixed step (reference 0.01).
        step_rule: ``"fixed"`` or ``"line_search"``; ``None``: the preset's (fixed for the reference
            tables, line search for ``pretrained_r31``).
        pipeline: ``"coarse_to_fine"`` (reference default) or ``"fine_to_coarse"``.
        unmatched: Masked positions without a matched label: ``"keep"`` (reference) or ``"global"``.
        on_divergence: ``"line_search"`` (redo a diverging level with the line search), ``"raise"``, or
            ``"ignore"`` (keep the fixed-step result, as the reference code; non-finite still raises).
        lr: Adam learning rate (supplement 1e-4, no weight decay).
        training: ``"blockwise"`` (one block per stage, lower blocks frozen) or ``"joint"`` (sum of the
            four L_AE, every block trained); ignored by ``pretrained_r31`` (one decoder).
        stage_epochs: Epochs of the relu1_1, relu2_1, relu3_1, relu4_1 stages (supplement: 3, 3, 5, 5).
        stage_steps: Steps per stage instead of epochs (short runs); overrides ``stage_epochs``.
        pixel_weight: Weight of L_AE's image term.
        feature_weight: Weight of L_AE's feature term.
        intermediate_weight: Weight of an extra "block reproduces the level below" term ([proposal], 0).
        reduction: ``"sum"`` (Frobenius norms of the paper, averaged over the batch) or ``"mean"``.
        calibration_images: Training images whose mean activations fit the channel scales (two per
            training step, until this many were seen); ``pretrained_r31`` has no channel scales.
        fine_tune_decoder: ``pretrained_r31`` only: train the pretrained relu3_1 decoder with L_AE
            (Eq. 28 with ``reduction``, ``pixel_weight``, ``feature_weight``; the encoder stays frozen).
            A stylelab CPU option (deviation: the paper trains IFT's own decoders from scratch on COCO);
            without it the preset refuses training.
        on_nonfinite: See :class:`StyleTransferMethod`.

    Raises:
        ValueError: Bad options, ``fine_tune_decoder`` with a preset of the decoder blocks, or with
            ``intermediate_weight`` (the relu3_1 decoder has no intermediate target).
    """

    method_name = "ift"

    def __init__(
        self,
        encoder_weights: str | None = "vgg19_caffe_q8",
        encoder_padding: Literal["reflect", "zero"] = "reflect",
        feature_norm: FeatureNorm = "mean_activation",
        preset: str = DEFAULT_PRESET,
        lam: str | float | list[float] | dict[str, float] | None = None,
        n_upd: str | int | list[int] | dict[str, int] | None = None,
        n_iter: int = 1,
        step: float = 0.01,
        step_rule: StepRule | None = None,
        pipeline: Pipeline = "coarse_to_fine",
        unmatched: Unmatched = "keep",
        on_divergence: OnDivergence = "line_search",
        lr: float = 1e-4,
        training: Literal["blockwise", "joint"] = "blockwise",
        stage_epochs: list[int] | None = None,
        stage_steps: list[int] | None = None,
        pixel_weight: float = 1.0,
        feature_weight: float = 1.0,
        intermediate_weight: float = 0.0,
        reduction: Literal["sum", "mean"] = "sum",
        calibration_images: int = 1000,
        fine_tune_decoder: bool = False,
        on_nonfinite: Literal["raise", "skip"] = "raise",
    ) -> None:
        super().__init__(on_nonfinite=on_nonfinite)
        self.save_hyperparameters()
        resolve_levels(preset, lam, n_upd)  # validate early
        if pipeline not in PIPELINES:
            raise ValueError(f"pipeline must be one of {sorted(PIPELINES)}; got {pipeline!r}")
        if training not in ("blockwise", "joint"):
            raise ValueError(f"training must be 'blockwise' or 'joint'; got {training!r}")
        for name, stages in (("stage_epochs", stage_epochs), ("stage_steps", stage_steps)):
            if stages is not None and (len(stages) != len(LEVELS) or any(s < 0 for s in stages)):
                raise ValueError(f"{name} needs {len(LEVELS)} non-negative counts ({', '.join(LEVELS)})")
        self.stage_epochs = list(stage_epochs or [3, 3, 5, 5])
        self.stage_steps = list(stage_steps) if stage_steps is not None else None
        if step_rule not in (None, "fixed", "line_search"):
            raise ValueError(f"step_rule must be 'fixed' or 'line_search'; got {step_rule!r}")
        self.network: Network = network_of(preset)
        if fine_tune_decoder and self.network != "pretrained_r31":
            raise ValueError(
                f"fine_tune_decoder applies to preset pretrained_r31 only (preset {preset!r} trains IFT's "
                "own decoder blocks anyway)"
            )
        if fine_tune_decoder and intermediate_weight > 0:
            raise ValueError("intermediate_weight needs IFT's decoder blocks; the relu3_1 decoder has none")
        self.net: IFTNet | IFTR31Net = (
            IFTR31Net(fine_tune_decoder=fine_tune_decoder)
            if self.network == "pretrained_r31"
            else IFTNet(encoder_weights, encoder_padding, feature_norm)
        )

    @property
    def step_rule(self) -> StepRule:
        """The model's step rule (its own, or its preset's)."""
        return self.hparams.step_rule or PRESET_STEP_RULE[self.hparams.preset]

    def variant(self) -> str:
        """Configuration string for tables."""
        h = self.hparams
        if self.network == "pretrained_r31":
            levels = self._levels(None, None, None)
            setting = levels[IFTR31Net.level]
            return (
                f"IFT preset pretrained_r31: {self.net.variant()}; relu3_1 lambda {setting.lam:g}, "
                f"n_upd {setting.n_upd}, step {self.step_rule}"
                + (f" {h.step:g}" if self.step_rule == "fixed" else "")
                + f", n_iter {h.n_iter}"
            )
        return (
            f"IFT, VGG-19 {h.encoder_weights or 'random'} ({h.encoder_padding} pad) relu1_1..relu4_1, "
            f"{h.pipeline}, preset {h.preset}, step {self.step_rule} {h.step:g}, n_iter {h.n_iter}, "
            f"features {h.feature_norm}"
        )

    # ------------------------------------------------------------------ inference
    def stylize(
        self,
        content: Tensor,
        style: Tensor | Sequence[Tensor],
        style_weights: Sequence[float] | None = None,
        content_mask: Tensor | None = None,
        style_masks: Sequence[Tensor] | Tensor | None = None,
        preset: str | None = None,
        lam: LevelSpec = None,
        n_upd: LevelSpec = None,
        n_iter: int | None = None,
        step: float | None = None,
        step_rule: StepRule | None = None,
        pipeline: Pipeline | None = None,
        unmatched: Unmatched | None = None,
        transform: Transform = "ift",
        alpha: float = 1.0,
        on_divergence: OnDivergence | None = None,
        **options: Any,
    ) -> Tensor:
        """Stylize RGB [0, 1] content ``(B, 3, H, W)`` (``H, W`` multiples of 8) with one or several styles.

        Args:
            content: ``(B, 3, H, W)``.
            style: One style image ``(B|1, 3, H_s, W_s)`` or a sequence of them.
            style_weights: One weight per style (default ``1/q``); inside the objective, not a blend.
            content_mask: ``(B|1, H, W)`` / ``(H, W)`` integer labels for spatial control.
            style_masks: One label map per style (a tensor for one style).
            preset: Per-level table name (default: the model's); it must run on the model's network.
            lam: Per-level lambda overrides on top of the preset (and of the model's own overrides when
                the preset is the model's).
            n_upd: Per-level update-count overrides.
            n_iter: Outer rounds. step: fixed step. step_rule: ``"fixed"`` / ``"line_search"``.
            pipeline: ``"coarse_to_fine"`` / ``"fine_to_coarse"``.
            unmatched: ``"keep"`` / ``"global"``.
            transform: ``"ift"`` or a comparison (``"zca"``, ``"adain"``, linear blending of styles).
            alpha: Blend of the comparison transforms.
            on_divergence: ``"line_search"`` / ``"raise"``.

        Returns:
            ``(B, 3, H, W)`` RGB in [0, 1].
        """
        if options:
            raise TypeError(f"IFT.stylize got unknown options {sorted(options)}")
        h = self.hparams
        levels = self._levels(preset, lam, n_upd)
        styles = [style] if isinstance(style, Tensor) else list(style)
        if isinstance(style_masks, Tensor):
            style_masks = [style_masks]
        with torch.no_grad():
            out = self.net.stylize(
                content,
                styles,
                style_weights,
                levels=levels,
                pipeline=pipeline or h.pipeline,
                step=h.step if step is None else step,
                step_rule=step_rule or self.step_rule,
                n_iter=h.n_iter if n_iter is None else n_iter,
                transform=transform,
                alpha=alpha,
                content_mask=content_mask,
                style_masks=style_masks,
                unmatched=unmatched or h.unmatched,
                on_divergence=on_divergence or h.on_divergence,
            )
        return out.clamp(0, 1)

    def _levels(self, preset: str | None, lam: LevelSpec, n_upd: LevelSpec) -> dict[str, LevelSetting]:
        """The model's table (its preset and overrides) or another preset's, then the call's overrides.

        Raises:
            ValueError: A preset of the other network (e.g. ``pretrained_r31`` on trained blocks).
        """
        h = self.hparams
        name = preset or h.preset
        if network_of(name) != self.network:
            raise ValueError(
                f"IFT preset {name!r} runs on the {network_of(name)} network; this model is "
                f"{self.network} (preset {h.preset!r}): "
                + (
                    "build it with preset='pretrained_r31' (no checkpoint)"
                    if name == "pretrained_r31"
                    else "that preset needs a trained IFT checkpoint"
                )
            )
        base = resolve_levels(h.preset, h.lam, h.n_upd) if name == h.preset else resolve_levels(name)
        lam_spec = {k: v.lam for k, v in base.items()}
        upd_spec = {k: float(v.n_upd) for k, v in base.items()}
        if lam is not None:
            lam_spec.update(parse_level_values(lam))  # type: ignore[arg-type]
        if n_upd is not None:
            upd_spec.update(parse_level_values(n_upd))  # type: ignore[arg-type]
        return resolve_levels(name, lam_spec, upd_spec)

    # ------------------------------------------------------------------ training
    def current_stage(self) -> str:
        """The level whose autoencoder is being trained now (blockwise schedule; relu3_1 for r31)."""
        if isinstance(self.net, IFTR31Net):
            return IFTR31Net.level
        if self.stage_steps is not None:
            position, bounds = self.global_step, self.stage_steps
        else:
            position, bounds = self.current_epoch, self.stage_epochs
        total = 0
        for level, count in zip(LEVELS, bounds, strict=True):
            total += count
            if position < total:
                return level
        return LEVELS[-1]

    def _maybe_calibrate(self, images: Tensor) -> None:
        if self.hparams.feature_norm == "none" or not isinstance(self.net, IFTNet):
            return
        if self.net.calibration_images.item() < self.hparams.calibration_images:
            with torch.no_grad():  # two images per step keep the extra relu4_1 forward cheap
                self.net.update_calibration(self.net.encode(images[:2])[0])

    def _loss_terms(self, images: Tensor, stage: str) -> tuple[Tensor, dict[str, Tensor]]:
        h = self.hparams
        levels = LEVELS if h.training == "joint" and isinstance(self.net, IFTNet) else (stage,)
        total = images.new_zeros(())
        terms: dict[str, Tensor] = {}
        for level in levels:
            t = self.net.ae_losses(images, level, h.reduction, intermediate=h.intermediate_weight > 0)
            loss = h.pixel_weight * t["pixel"] + h.feature_weight * t["feature"]
            if "intermediate" in t:
                loss = loss + h.intermediate_weight * t["intermediate"]
            total = total + loss
            terms.update({f"{level}/{k}": v for k, v in t.items()})
        return total, terms

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor | None:
        """One L_AE update of the current stage's decoder block (r31: the decoder) on the content images."""
        images = batch["content"]
        self._maybe_calibrate(images)
        stage = self.current_stage()
        if isinstance(self.net, IFTNet):
            if self.hparams.training == "blockwise":
                for level, block in self.net.decoder.items():
                    block.requires_grad_(level == stage)
            self.log("train/stage", float(LEVELS.index(stage) + 1), on_step=True)
        total, terms = self._loss_terms(images, stage)
        return self.checked_loss(total, {"loss": total, **terms})

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        """Log the current stage's L_AE on held-out images."""
        with torch.no_grad():
            total, _ = self._loss_terms(batch["content"], self.current_stage())
        self.log("val/loss", total, prog_bar=True, batch_size=batch["content"].shape[0])

    test_step = validation_step

    def configure_optimizers(self) -> Any:
        """Adam on the decoder (no weight decay); frozen blocks get no gradient and are not updated.

        Raises:
            RuntimeError: The ``pretrained_r31`` preset without ``fine_tune_decoder`` (its decoder is
                pretrained and frozen: nothing to train).
        """
        if isinstance(self.net, IFTR31Net) and self.hparams.fine_tune_decoder:
            return torch.optim.Adam(self.net.decoder.parameters(), lr=self.hparams.lr)
        if self.network == "pretrained_r31":
            raise RuntimeError(
                "IFT preset pretrained_r31 needs no training (shipped encoder and pretrained decoder); "
                "use it with `stylelab stylize --method ift --preset pretrained_r31`, or fine-tune its "
                "decoder with fine_tune_decoder=true (configs/zoo/ift.yaml)"
            )
        return torch.optim.Adam(self.net.decoder.parameters(), lr=self.hparams.lr)

    # ------------------------------------------------------------------ `stylelab stylize` (see .cli)
    @classmethod
    def add_stylize_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """IFT options of ``stylelab stylize`` (:func:`stylelab.methods.ift.cli.add_arguments`)."""
        add_arguments(parser)

    @classmethod
    def from_stylize_options(cls, options: argparse.Namespace) -> IFT:
        """Without ``--checkpoint``: the ``pretrained_r31`` preset, with the model zoo's decoder by default.

        ``--decoder zoo`` (default): the zoo's IFT (:func:`stylelab.zoo.load_zoo_method`, the relu3_1
        decoder fine-tuned by ``configs/zoo/ift.yaml``); when the zoo ships no IFT file it falls back,
        silently, to the shipped pretrained decoder (:meth:`variant` says which decoder runs).
        ``--decoder pretrained_r31``: the shipped pair, no training.

        Raises:
            StylizeUsageError: Another ``--preset`` (those need a trained IFT checkpoint).
        """
        preset = getattr(options, "preset", None) or "pretrained_r31"
        if network_of(preset) != "pretrained_r31":
            from stylelab.commands.stylize import StylizeUsageError

            raise StylizeUsageError(
                f"IFT preset {preset} runs on IFT's own decoder blocks, which need a trained checkpoint: "
                "give --checkpoint (stylelab fit --config configs/ift.yaml), or use --preset pretrained_r31"
            )
        if (getattr(options, "decoder", None) or "zoo") == "zoo":
            from stylelab import zoo

            try:
                return zoo.load_zoo_method("ift")
            except FileNotFoundError:
                pass  # the zoo has no IFT yet: the untrained preset below
        return cls(preset="pretrained_r31")

    def stylize_options(self, options: argparse.Namespace) -> dict[str, Any]:
        """Keyword arguments of :meth:`stylize` (:func:`stylelab.methods.ift.cli.options_to_kwargs`)."""
        return options_to_kwargs(options)

    def stylize_files(
        self,
        contents: list[Path],
        styles: list[Path],
        output: Path,
        options: argparse.Namespace,
        load: Callable[[Path], Tensor],
    ) -> int:
        """See :func:`stylelab.methods.ift.cli.stylize_files`."""
        return stylize_files(self, contents, styles, output, options, load)
