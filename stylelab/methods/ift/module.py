"""Lightning plumbing of IFT: blockwise decoder training with L_AE, stylization options, CLI hooks."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from stylelab.methods.base import StyleTransferMethod
from stylelab.methods.ift.model import PIPELINES, FeatureNorm, IFTNet, OnDivergence, Pipeline, Transform
from stylelab.methods.ift.presets import (
    DEFAULT_PRESET,
    LEVELS,
    PRESETS,
    LevelSetting,
    parse_level_values,
    resolve_levels,
)
from stylelab.ops.ift import StepRule, Unmatched, check_mask_matches, resize_labels

LevelSpec = str | float | Sequence[float] | Mapping[str, float] | None


class IFT(StyleTransferMethod):
    """Iterative feature transformation (Chiu & Gurari, ECCV 2020) as a stylelab method.

    Training fits the decoder blocks with the supplement's L_AE, blockwise from relu1_1 (block
    relu1_1->RGB) upward, each stage training only its own block ([proposal]; the training code was not
    released). Inference needs no style training: any style, several weighted styles, masks.

    Args:
        encoder_weights: VGG-19 weights registry name (``None``: random init, tests only).
        encoder_padding: ``"reflect"`` (reference) or ``"zero"``.
        feature_norm: ``"mean_activation"`` (vgg_normalised units; see :mod:`.model`) or ``"none"``.
        preset: Default per-level (lambda, n_upd) table: ``photorealistic`` (default), ``conservative``,
            ``demo``, ``reference``.
        lam: Default per-level lambda overrides (``"relu4_1=50"``, four values, or one value).
        n_upd: Default per-level update-count overrides (same forms).
        n_iter: Outer re-anchoring rounds [inferred]; 1 = reference code.
        step: Fixed step (reference 0.01).
        step_rule: ``"fixed"`` (reference) or ``"line_search"``.
        pipeline: ``"coarse_to_fine"`` (reference default) or ``"fine_to_coarse"``.
        unmatched: Masked positions without a matched label: ``"keep"`` (reference) or ``"global"``.
        on_divergence: ``"line_search"`` (redo a diverging level with the line search), ``"raise"``, or
            ``"ignore"`` (keep the fixed-step result, as the reference code; non-finite still raises).
        lr: Adam learning rate (supplement 1e-4, no weight decay).
        training: ``"blockwise"`` (one block per stage, lower blocks frozen) or ``"joint"`` (sum of the
            four L_AE, every block trained).
        stage_epochs: Epochs of the relu1_1, relu2_1, relu3_1, relu4_1 stages (supplement: 3, 3, 5, 5).
        stage_steps: Steps per stage instead of epochs (short runs); overrides ``stage_epochs``.
        pixel_weight: Weight of L_AE's image term.
        feature_weight: Weight of L_AE's feature term.
        intermediate_weight: Weight of an extra "block reproduces the level below" term ([proposal], 0).
        reduction: ``"sum"`` (Frobenius norms of the paper, averaged over the batch) or ``"mean"``.
        calibration_images: Training images whose mean activations fit the channel scales (two per
            training step, until this many were seen).
        on_nonfinite: See :class:`StyleTransferMethod`.
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
        step_rule: StepRule = "fixed",
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
        self.net = IFTNet(encoder_weights, encoder_padding, feature_norm)

    def variant(self) -> str:
        """Configuration string for tables."""
        h = self.hparams
        return (
            f"IFT, VGG-19 {h.encoder_weights or 'random'} ({h.encoder_padding} pad) relu1_1..relu4_1, "
            f"{h.pipeline}, preset {h.preset}, step {h.step_rule} {h.step:g}, n_iter {h.n_iter}, "
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
            preset: Per-level table name (default: the model's).
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
                step_rule=step_rule or h.step_rule,
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
        """The model's table (its preset and overrides) or another preset's, then the call's overrides."""
        h = self.hparams
        name = preset or h.preset
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
        """The level whose autoencoder is being trained now (blockwise schedule)."""
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
        if self.hparams.feature_norm == "none":
            return
        if self.net.calibration_images.item() < self.hparams.calibration_images:
            with torch.no_grad():  # two images per step keep the extra relu4_1 forward cheap
                self.net.update_calibration(self.net.encode(images[:2])[0])

    def _loss_terms(self, images: Tensor, stage: str) -> tuple[Tensor, dict[str, Tensor]]:
        h = self.hparams
        levels = LEVELS if h.training == "joint" else (stage,)
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
        """One L_AE update of the current stage's decoder block on the content images."""
        images = batch["content"]
        self._maybe_calibrate(images)
        stage = self.current_stage()
        if self.hparams.training == "blockwise":
            for level, block in self.net.decoder.items():
                block.requires_grad_(level == stage)
        total, terms = self._loss_terms(images, stage)
        self.log("train/stage", float(LEVELS.index(stage) + 1), on_step=True)
        return self.checked_loss(total, {"loss": total, **terms})

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        """Log the current stage's L_AE on held-out images."""
        with torch.no_grad():
            total, _ = self._loss_terms(batch["content"], self.current_stage())
        self.log("val/loss", total, prog_bar=True, batch_size=batch["content"].shape[0])

    test_step = validation_step

    def configure_optimizers(self) -> Any:
        """Adam on the decoder (no weight decay); frozen blocks get no gradient and are not updated."""
        return torch.optim.Adam(self.net.decoder.parameters(), lr=self.hparams.lr)

    # ------------------------------------------------------------------ `stylelab stylize`
    @classmethod
    def add_stylize_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """IFT options of ``stylelab stylize`` (several styles, weights, masks, presets, overrides)."""
        parser.add_argument(
            "--style-weights",
            default=None,
            help="comma-separated weights, one per --style: mix all styles into one image "
            "per content (inside the objective)",
        )
        parser.add_argument("--mix", action="store_true", help="mix all --style images with equal weights")
        parser.add_argument(
            "--content-mask",
            nargs="+",
            default=None,
            help="segmentation masks, one per --content image (same order)",
        )
        parser.add_argument(
            "--style-mask",
            nargs="+",
            default=None,
            help="segmentation masks, one per --style image (same order)",
        )
        parser.add_argument(
            "--preset", choices=sorted(PRESETS), default=None, help="per-level (lambda, n_upd) table"
        )
        parser.add_argument(
            "--lam",
            action="append",
            default=None,
            help="lambda override: one value, four values relu1_1..relu4_1, or "
            "level=value pairs (e.g. relu4_1=50); repeatable",
        )
        parser.add_argument(
            "--n-upd", action="append", default=None, help="update-count override (same forms)"
        )
        parser.add_argument("--n-iter", type=int, default=None, help="outer re-anchoring rounds")
        parser.add_argument("--step", type=float, default=None, help="fixed step size")
        parser.add_argument(
            "--line-search", action="store_true", help="exact line search instead of the fixed step"
        )
        parser.add_argument("--pipeline", choices=sorted(PIPELINES), default=None)
        parser.add_argument(
            "--unmatched",
            choices=["keep", "global"],
            default=None,
            help="masked positions without a matched label: keep content or use the whole style",
        )
        parser.add_argument("--transform", choices=["ift", "zca", "adain"], default="ift",
                            help="ift, or a linear-blending comparison")  # fmt: skip

    def stylize_options(self, options: argparse.Namespace) -> dict[str, Any]:
        """Keyword arguments of :meth:`stylize` from parsed options (masks and styles are handled apart)."""
        out: dict[str, Any] = {"transform": options.transform}
        if options.preset:
            out["preset"] = options.preset
        for key, attr in (("lam", "lam"), ("n_upd", "n_upd")):
            specs = getattr(options, attr)
            if specs:
                merged: dict[str, float] = {}
                for spec in specs:
                    merged.update(parse_level_values(spec))
                out[key] = merged
        for key in ("n_iter", "step", "pipeline", "unmatched"):
            if getattr(options, key) is not None:
                out[key] = getattr(options, key)
        if options.line_search:
            out["step_rule"] = "line_search"
        return out

    def stylize_files(
        self,
        contents: list[Path],
        styles: list[Path],
        output: Path,
        options: argparse.Namespace,
        load: Callable[[Path], Tensor],
    ) -> int:
        """One image per (content, style), or per content with ``--style-weights``/``--mix``; masks aligned.

        Raises:
            SystemExit: Missing styles, mask/weight counts that do not match the images, bad masks.
        """
        from stylelab.data.errors import UnreadableImageError
        from stylelab.data.image_io import save_image
        from stylelab.data.masks import load_mask

        if not styles:
            raise SystemExit("stylelab stylize: ift needs --style images")
        kwargs = self.stylize_options(options)
        weights = None
        if options.style_weights is not None:
            try:
                weights = [float(w) for w in options.style_weights.split(",")]
            except ValueError as error:
                raise SystemExit(
                    f"stylelab stylize: --style-weights {options.style_weights!r} is not a list of numbers"
                ) from error
            if len(weights) != len(styles):
                raise SystemExit(f"stylelab stylize: {len(weights)} --style-weights for {len(styles)} styles")
        mix = weights is not None or options.mix
        c_masks, s_masks = options.content_mask, options.style_mask
        if (c_masks is None) != (s_masks is None):
            raise SystemExit("stylelab stylize: spatial control needs both --content-mask and --style-mask")
        if c_masks is not None and (len(c_masks) != len(contents) or len(s_masks) != len(styles)):
            raise SystemExit(
                f"stylelab stylize: give one --content-mask per content ({len(contents)}) and one "
                f"--style-mask per style ({len(styles)}); got {len(c_masks)} and {len(s_masks)}"
            )

        def load_pair(path: Path, mask_path: str | None) -> tuple[Tensor, Tensor | None]:
            image = load(path)
            if mask_path is None:
                return image, None
            try:
                mask = load_mask(mask_path)
            except UnreadableImageError as error:
                raise SystemExit(f"stylelab stylize: cannot read mask {mask_path}: {error}") from error
            try:
                check_mask_matches(mask, tuple(image.shape[-2:]), f"mask {mask_path}", rel_tol=0.02)
            except ValueError as error:
                raise SystemExit(f"stylelab stylize: {error} (image {path})") from error
            return image, resize_labels(mask, tuple(image.shape[-2:]))[None].to(image.device)

        loaded_styles = []
        for k, path in enumerate(styles):
            try:
                loaded_styles.append((path, *load_pair(path, None if s_masks is None else s_masks[k])))
            except UnreadableImageError as error:
                if mix:
                    raise SystemExit(f"stylelab stylize: unreadable style {path}: {error}") from error
                print(f"skipped style {path}: {error}")
        groups = [loaded_styles] if mix else [[s] for s in loaded_styles]
        written = skipped = 0
        for i, content_path in enumerate(contents):
            try:
                content, c_mask = load_pair(content_path, None if c_masks is None else c_masks[i])
            except UnreadableImageError as error:
                print(f"skipped content {content_path}: {error}")
                skipped += 1
                continue
            for group in groups:
                result = stylize_padded(
                    self,
                    content,
                    [g[1] for g in group],
                    content_mask=c_mask,
                    style_masks=None if c_mask is None else [g[2] for g in group],
                    style_weights=weights,
                    **kwargs,
                )
                name = "+".join(g[0].stem for g in group)
                target = output / f"{content_path.stem}__{name}.png"
                save_image(result[0].cpu(), target)
                written += 1
                print(f"wrote {target}")
        print(
            f"{written} image(s) written to {output}"
            + (f"; {skipped} unreadable input(s) skipped" if skipped else "")
        )
        return 0 if written else 1


def _pad8(x: Tensor, multiple: int = 8) -> Tensor:
    """Pad ``(..., H, W)`` at the bottom/right to multiples of ``multiple`` (reflect, else replicate)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return x
    squeeze = x.dim() == 3  # label maps (B, H, W): pad as float, exact for small integers
    y = x[:, None].float() if squeeze else x
    mode = "reflect" if min(h, w) > max(ph, pw) else "replicate"
    y = F.pad(y, (0, pw, 0, ph), mode=mode)
    return y[:, 0].to(x.dtype) if squeeze else y


def stylize_padded(
    method: IFT,
    content: Tensor,
    styles: Sequence[Tensor],
    content_mask: Tensor | None = None,
    style_masks: Sequence[Tensor] | None = None,
    **options: Any,
) -> Tensor:
    """:meth:`IFT.stylize` for images of any size: pad images and masks to multiples of 8, crop back.

    Args:
        method: The IFT method.
        content: ``(1, 3, H, W)`` RGB [0, 1].
        styles: ``(1, 3, H_k, W_k)`` style images.
        content_mask: ``(1, H, W)`` labels or None.
        style_masks: ``(1, H_k, W_k)`` labels per style, or None.
        **options: Passed to :meth:`IFT.stylize`.

    Returns:
        ``(1, 3, H, W)`` RGB [0, 1].
    """
    h, w = content.shape[-2:]
    out = method.stylize(
        _pad8(content),
        [_pad8(s) for s in styles],
        content_mask=None if content_mask is None else _pad8(content_mask),
        style_masks=None if style_masks is None else [_pad8(m) for m in style_masks],
        **options,
    )
    return out[..., :h, :w]
