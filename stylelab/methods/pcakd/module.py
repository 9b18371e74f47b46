"""Lightning plumbing for PCA-KD: one ``fit`` runs every stage (eigenbases, blocks 1..4) in order.

Stages and resumption
    The stage is a function of ``global_step`` (one optimiser step per batch): ``eigenbases`` for the
    first ``s_0`` steps, then ``block1`` .. ``block4``. Lengths come from ``stage_steps`` or, if unset,
    from ``trainer.max_steps`` split in proportion to ``stage_weights`` (default 10:15:10:10:10, the
    reference code's epochs), so ``--trainer.max_steps=N`` always runs through every stage. Each stage
    has its own Adam optimiser (a fresh one per block, as in the reference code), all returned by
    ``configure_optimizers``, so Lightning checkpoints and restores every optimiser state; resuming with
    ``--ckpt_path`` continues in the right stage. With ``eigen_solver="exact"`` (or local eigenbases,
    or the teacher pipeline) there is no eigenbasis stage; the exact solution is computed once at the
    start of fitting from ``eigen_batches`` training batches and marked as done by the persistent
    ``eigen_fitted`` buffer (the memory-bank pattern).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from stylelab.methods.base import StyleTransferMethod
from stylelab.methods.pcakd.data_init import (
    block_convolutions,
    init_block_from_data,
    least_squares_block_init,
)
from stylelab.methods.pcakd.eigenbases import centre, covariance_sum, top_eigenvectors
from stylelab.methods.pcakd.lbfgs import RejectedStep, lbfgs_step
from stylelab.methods.pcakd.model import PCAKDNet, pad_to_multiple, postprocess
from stylelab.methods.pcakd.pretrained import (
    SHIPPED,
    architecture_record,
    load_student,
    student_architecture,
)
from stylelab.methods.pcakd.transfer import ZCAConfig

STAGES = ("eigenbases", "block1", "block2", "block3", "block4")
DEFAULT_STAGE_WEIGHTS = (10.0, 15.0, 10.0, 10.0, 10.0)


def split_steps(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` steps in proportion to ``weights`` (largest remainders get the leftovers).

    Args:
        total: Steps to share, ``>= 0``.
        weights: Non-negative weights; stages with weight 0 get no step.

    Returns:
        Integer steps per stage summing to ``total``.
    """
    positive = sum(w for w in weights if w > 0)
    if positive <= 0:
        raise ValueError(f"stage weights must have a positive entry, got {weights}")
    exact = [total * w / positive if w > 0 else 0.0 for w in weights]
    steps = [math.floor(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - steps[i]), i))
    for i in order[: total - sum(steps)]:
        steps[i] += 1
    return steps


class PCAKD(StyleTransferMethod):
    """PCA-based knowledge distillation (Chiu & Gurari, CVPR 2022) as a stylelab method.

    Args:
        backbone: ``"vgg"`` (Ours-VGG; with ``widths=[16, 32, 64, 128]`` Ours-VGG-CKD), ``"mobilenet"``
            (Ours-Mob) or ``"vgg_teacher"`` (the full VGG-19 + full-width decoders reference).
        widths: Student widths; ``None`` = the paper's.
        hfr: ``"box"`` (reference code's HFR) or ``"pool"`` (PhotoWCT2's).
        eigenbasis: ``"global"`` (the method) or ``"local"`` (image-dependent ablation).
        eigen_solver: ``"penalty"`` (gradient descent with the soft orthonormality penalty, reference
            code) or ``"exact"`` (top eigenvectors of the averaged covariance).
        teacher_weights: Teacher weights (``None``: random teacher, for tests).
        teacher_normalisation: ``"vgg_normalised"`` or ``"none"``.
        pretrained: ``"auto"`` (the shipped student when the architecture matches it, else random
            init), a shipped name (``"vgg"``), a ``.safetensors`` path, or ``None`` (random init).
        stage_steps: Steps of the five stages; ``None`` splits ``trainer.max_steps`` by ``stage_weights``.
        stage_weights: Relative stage lengths (eigenbases, block1..block4).
        lr: Adam learning rate of the blocks (reference: 1e-4; L-BFGS uses its line search instead).
        eigen_lr: Adam learning rate of the eigenbases (reference: 1e-4).
        eigen_batches: Batches averaged by the exact solver (and by the least-squares block init).
        train_on_style: Also train on the batches' style images (PCA-KD needs images only).
        zca_regularizer: ``r`` of ZCA's ``+ r I`` on both covariances (Chiu's code: 1).
        guided_filter: Post-process stylised images with a guided filter (demo only; off for metrics).
        gf_radius: Guided filter radius in pixels.
        gf_eps: Guided filter regulariser for images in [0, 1].
        seed: Seed of the initialisation (student weights, frozen 1x1 conv, eigenbases).
        student_preprocess: The VGG student's frozen 1x1 input conv: ``"random"`` (reference code) or
            ``"caffe"`` (the teacher's RGB [0, 1] -> x 255 - mean map, so the student sees the teacher's
            input scale; see the README) [deviation option]. ``None``: ``"caffe"`` for the VGG student
            (the shipped one's), the fixed map of the other backbones.
        block_optimizer: ``"adam"`` (reference code: a fresh Adam per block at ``lr``) or ``"lbfgs"``
            (L-BFGS with a strong-Wolfe line search, ``lbfgs_iterations`` iterations on each batch; the
            distillation is an ill-conditioned regression on correlated pixels, where Adam needs ~1e5
            steps and L-BFGS a few hundred: the CPU budget's choice, see the README) [deviation option].
        lbfgs_iterations: L-BFGS iterations per training step (per batch).
        block_init: ``"default"`` (PyTorch's initialisation, reference code), ``"data"`` (before a
            block's stage, each of its encoder convolutions is rescaled on the first batch so that its
            channels fire and start at the target's scale; the decoder keeps PyTorch's init) or
            ``"least_squares"`` (VGG student: the encoder block starts as the best linear map from its
            input to the projected teacher feature, identity convs then a least-squares conv; the last
            conv of the decoder block, student's or teacher pipeline's, is then fitted by least squares
            to its target, the image or the previous feature), see :mod:`.data_init` [deviation option].
        lbfgs_history: L-BFGS curvature pairs kept.
        on_nonfinite: See :class:`StyleTransferMethod`.
    """

    method_name = "pcakd"

    def __init__(
        self,
        backbone: Literal["vgg", "mobilenet", "vgg_teacher"] = "vgg",
        widths: list[int] | None = None,
        hfr: Literal["box", "pool"] = "box",
        eigenbasis: Literal["global", "local"] = "global",
        eigen_solver: Literal["penalty", "exact"] = "penalty",
        teacher_weights: str | None = "vgg19_caffe_q8",
        teacher_normalisation: Literal["vgg_normalised", "none"] = "vgg_normalised",
        pretrained: str | None = "auto",
        stage_steps: list[int] | None = None,
        stage_weights: list[float] | None = None,
        lr: float = 1e-4,
        eigen_lr: float = 1e-4,
        eigen_batches: int = 50,
        train_on_style: bool = False,
        zca_regularizer: float = 1.0,
        guided_filter: bool = False,
        gf_radius: int = 30,
        gf_eps: float = 0.02**2,
        seed: int = 0,
        student_preprocess: Literal["random", "caffe"] | None = None,
        block_optimizer: Literal["adam", "lbfgs"] = "adam",
        lbfgs_iterations: int = 20,
        lbfgs_history: int = 50,
        block_init: Literal["default", "data", "least_squares"] = "default",
        on_nonfinite: Literal["raise", "skip"] = "raise",
    ) -> None:
        super().__init__(on_nonfinite=on_nonfinite)
        if eigen_solver not in ("penalty", "exact"):
            raise ValueError(f"eigen_solver must be 'penalty' or 'exact', got {eigen_solver!r}")
        if stage_steps is not None and (len(stage_steps) != len(STAGES) or min(stage_steps) < 0):
            raise ValueError(
                f"stage_steps needs {len(STAGES)} non-negative entries {STAGES}, got {stage_steps}"
            )
        if block_optimizer not in ("adam", "lbfgs"):
            raise ValueError(f"block_optimizer must be 'adam' or 'lbfgs', got {block_optimizer!r}")
        if block_init not in ("default", "data", "least_squares"):
            raise ValueError(f"block_init must be 'default', 'data' or 'least_squares', got {block_init!r}")
        if block_init == "least_squares" and backbone not in ("vgg", "vgg_teacher"):
            raise ValueError(
                "block_init='least_squares' needs the VGG student or teacher pipeline (dense convs)"
            )
        if lbfgs_iterations < 1 or lbfgs_history < 1:
            raise ValueError("lbfgs_iterations and lbfgs_history must be >= 1")
        weights = list(stage_weights) if stage_weights is not None else list(DEFAULT_STAGE_WEIGHTS)
        if len(weights) != len(STAGES) or min(weights) < 0:
            raise ValueError(f"stage_weights needs {len(STAGES)} non-negative entries, got {weights}")
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.student_preprocess = student_preprocess or ("caffe" if backbone == "vgg" else "random")
        self.net = PCAKDNet(
            backbone,
            widths,
            hfr,
            eigenbasis,
            teacher_weights,
            teacher_normalisation,
            seed,
            student_preprocess=self.student_preprocess,
        )
        self.register_buffer("eigen_fitted", torch.tensor(False))
        self.register_buffer("blocks_initialised", torch.zeros(4, dtype=torch.bool))
        self._stage_ends: list[int] | None = None
        self._stage_optimizer: dict[int, int] = {}
        self._last_stage: int | None = None
        self.weights_source = self._load_pretrained(pretrained)

    # ------------------------------------------------------------------------------ set-up
    def _architecture(self) -> dict[str, str]:
        ae = self.net.autoencoder
        preprocess = self.student_preprocess if self.hparams.backbone == "vgg" else "fixed"
        return architecture_record(self.hparams.backbone, ae.widths, self.hparams.hfr, preprocess)

    def _load_pretrained(self, pretrained: str | None) -> str:
        if pretrained is None:
            return "random init"
        if pretrained == "auto":
            name = self.hparams.backbone if self.hparams.backbone in SHIPPED else None
            if name is None:
                return "random init"
            try:
                shipped = student_architecture(name)
            except FileNotFoundError:
                return "random init (no shipped student found)"
            if shipped != self._architecture():
                return "random init"  # another architecture than the shipped student's
            pretrained = name
        load_student(self.net.autoencoder, pretrained, self._architecture())
        return f"shipped student {pretrained!r}" if pretrained in SHIPPED else f"weights {pretrained}"

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Accept checkpoints written before ``blocks_initialised`` existed (no block was initialised)."""
        super().on_load_checkpoint(checkpoint)
        state = checkpoint.get("state_dict", {})
        state.setdefault("blocks_initialised", torch.zeros(4, dtype=torch.bool))

    def _needs_eigen_stage(self) -> bool:
        hp = self.hparams
        return self.net.is_student and hp.eigenbasis == "global" and hp.eigen_solver == "penalty"

    def stage_ends(self) -> list[int]:
        """Cumulative step at which each stage ends (eigenbases, block1..block4)."""
        if self._stage_ends is None:
            if self.hparams.stage_steps is not None:
                steps = list(self.hparams.stage_steps)
                if not self._needs_eigen_stage():
                    steps[0] = 0
            else:
                total = self._total_steps()
                weights = list(self.hparams.stage_weights or DEFAULT_STAGE_WEIGHTS)
                if not self._needs_eigen_stage():
                    weights[0] = 0.0
                steps = split_steps(total, weights)
            ends, running = [], 0
            for count in steps:
                running += count
                ends.append(running)
            self._stage_ends = ends
        return self._stage_ends

    def _total_steps(self) -> int:
        trainer = self._trainer
        if trainer is None:
            raise RuntimeError("stage lengths need a trainer (trainer.max_steps) or model.stage_steps")
        if trainer.max_steps is not None and trainer.max_steps > 0:
            return int(trainer.max_steps)
        estimated = trainer.estimated_stepping_batches
        if not math.isfinite(estimated):
            raise ValueError("set --trainer.max_steps (or model.init_args.stage_steps) for PCA-KD's stages")
        return int(estimated)

    def stage_at(self, step: int) -> int:
        """Stage index (0 = eigenbases, 1..4 = blocks) of optimiser step ``step``."""
        for index, end in enumerate(self.stage_ends()):
            if step < end:
                return index
        return len(STAGES) - 1

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        """One Adam per stage (eigenbases when learned by gradient descent, then each block pair)."""
        ae = self.net.autoencoder
        optimizers: list[torch.optim.Optimizer] = []
        self._stage_optimizer = {}
        if self._needs_eigen_stage():
            self._stage_optimizer[0] = len(optimizers)
            optimizers.append(torch.optim.Adam(ae.eigenbases.parameters(), lr=self.hparams.eigen_lr))
        hp = self.hparams
        for n in range(1, 5):
            params = ae.block_parameters(n)
            if not params:
                continue
            self._stage_optimizer[n] = len(optimizers)
            if hp.block_optimizer == "lbfgs":
                optimizers.append(
                    torch.optim.LBFGS(
                        params,
                        lr=1.0,
                        max_iter=hp.lbfgs_iterations,
                        history_size=hp.lbfgs_history,
                        line_search_fn="strong_wolfe",
                    )
                )
            else:
                optimizers.append(torch.optim.Adam(params, lr=hp.lr))
        return optimizers

    def _optimizer(self, stage: int) -> Any:
        optimizers = self.optimizers()
        if not isinstance(optimizers, list):
            optimizers = [optimizers]
        return optimizers[self._stage_optimizer[stage]]

    # --------------------------------------------------------------------------- training
    def _images(self, batch: dict[str, Any]) -> Tensor:
        images = batch["content"]
        if self.hparams.train_on_style and batch["style"].shape[-2:] == images.shape[-2:]:
            images = torch.cat([images, batch["style"]], dim=0)
        return pad_to_multiple(images, self.net.multiple_of)

    def on_train_start(self) -> None:
        """Exact eigenbases (once, before the blocks) when ``eigen_solver="exact"``."""
        hp = self.hparams
        if self.net.is_student and hp.eigenbasis == "global" and hp.eigen_solver == "exact":
            if not bool(self.eigen_fitted):
                self.fit_exact_eigenbases(self._fresh_train_batches())

    def _fresh_train_batches(self) -> Any:
        datamodule = getattr(self.trainer, "datamodule", None)
        if datamodule is not None:
            return datamodule.train_dataloader()
        return self.trainer.train_dataloader

    @torch.no_grad()
    def fit_exact_eigenbases(self, batches: Any) -> list[Tensor]:
        """Set every basis to the top eigenvectors of the averaged teacher covariance.

        Args:
            batches: Iterable of datamodule batches (at most ``eigen_batches`` are used).

        Returns:
            The eigenvalues (descending) of the four averaged covariances.
        """
        teacher = self.net.teacher()
        sums: list[Tensor | None] = [None] * 4
        count = 0
        for index, batch in enumerate(batches):
            if index >= self.hparams.eigen_batches:
                break
            images = self._images(
                {k: v.to(self.device) if isinstance(v, Tensor) else v for k, v in batch.items()}
            )
            feats = teacher.features(images, 4)
            for n in range(4):
                term = covariance_sum(centre(feats[n]))
                sums[n] = term if sums[n] is None else sums[n] + term
            count += images.shape[0]
        if count == 0:
            raise ValueError("the exact eigenbasis solver got no training batch")
        eigenvalues = []
        bases = self.net.autoencoder.eigenbases
        for n in range(1, 5):
            vectors, values = top_eigenvectors(sums[n - 1] / count, bases[n].shape[1])
            bases.set_(n, vectors)
            eigenvalues.append(values)
        self.eigen_fitted.fill_(True)
        return eigenvalues

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor | None:
        """One step of the current stage with its own optimiser (other parameters frozen)."""
        images = self._images(batch)
        stage = self.stage_at(self.global_step)
        if stage != self._last_stage:
            self.print(
                f"PCA-KD stage {STAGES[stage]} from step {self.global_step} (ends {self.stage_ends()})"
            )
            self._last_stage = stage
        if stage not in self._stage_optimizer:
            raise RuntimeError(f"stage {STAGES[stage]} has no optimiser (no trainable parameters)")
        pending_init = self.hparams.block_init != "default" and not bool(self.blocks_initialised[stage - 1])
        if stage > 0 and pending_init:
            self.init_block_from_data(images, stage, self._init_batches())
        optimizer = self._optimizer(stage)
        self.toggle_optimizer(optimizer)  # only this stage's parameters require gradients

        def objective() -> tuple[Tensor, dict[str, Tensor]]:
            terms = self.net.eigenbasis_losses(images) if stage == 0 else self.net.block_losses(images, stage)
            return torch.stack(list(terms.values())).sum(), terms

        total, terms = objective()
        loss = self.checked_loss(
            total, {"loss": total, **{f"{STAGES[stage]}/{k}": v for k, v in terms.items()}}
        )
        if loss is not None:
            optimizer.zero_grad()
            self.manual_backward(loss)
            if isinstance(optimizer.optimizer, torch.optim.LBFGS):
                try:
                    lbfgs_step(optimizer, loss, lambda: objective()[0], self.manual_backward)
                except RejectedStep as rejected:  # undone; counts like a non-finite loss
                    self.checked_loss(rejected.value, {"lbfgs_trial_loss": rejected.value})
            else:
                optimizer.step()
        self.untoggle_optimizer(optimizer)
        self.log("train/stage", float(stage), on_step=True)
        if stage == 0:
            for n, error in enumerate(self.net.autoencoder.eigenbases.orthonormality_errors(), start=1):
                self.log(f"train/orthonormality_error{n}", error, on_step=True)
        return total.detach()

    @torch.no_grad()
    def init_block_from_data(
        self, images: Tensor, n: int, extra_images: list[Tensor] | None = None
    ) -> list[float]:
        """Data-dependent initialisation (``block_init``) of encoder block ``n`` on ``images``.

        Runs once per block (the ``blocks_initialised`` buffer is checkpointed). ``"data"``: the target
        spread is the mean per-channel standard deviation of the teacher's feature projected on the
        block's eigenbasis (what the block must reproduce; 1 without eigenbases). ``"least_squares"``:
        the target is that projection itself.

        Args:
            images: RGB ``(B, 3, H, W)`` batch.
            n: Block 1..4.
            extra_images: More batches for the least-squares fit (its normal equations).

        Returns:
            ``"data"``: measured per-layer spreads before the rescaling; ``"least_squares"``: the
            relative residuals of the encoder's and the decoder's linear fits.
        """
        ae = self.net.autoencoder
        block_input, coefficients = self._block_pair(images, n)
        target_std = float(coefficients.std(dim=(0, 2, 3)).mean()) if coefficients is not None else 1.0
        convs = block_convolutions(ae.encoder.block_parameters(n), ae.encoder)

        def encode(x: Tensor) -> Tensor:
            return ae.encoder.forward_block(n, x)[0]

        if self.hparams.block_init == "least_squares":
            batches = [images, *(extra_images or [])]
            measured = []
            if coefficients is not None:  # a student: its encoder block first (the teacher's is fixed)
                pairs = [(x, y) for x, y in map(lambda b: self._block_pair(b, n), batches) if y is not None]
                measured.append(least_squares_block_init(encode, convs, pairs))
            measured.append(self._least_squares_decoder_init(batches, n))
            parts = ("encoder", "decoder")[-len(measured) :]
            summary = "least-squares init, residuals " + ", ".join(
                f"{part} {v:.3f}" for part, v in zip(parts, measured, strict=True)
            )
        else:
            measured = init_block_from_data(lambda: encode(block_input), convs, target_std)
            summary = f"spreads {[round(v, 3) for v in measured]} -> {target_std:.3g}"
        self.blocks_initialised[n - 1] = True
        if self._trainer is not None:
            self.print(f"PCA-KD block{n}: data-dependent init of {len(convs)} conv(s), {summary}")
        return measured

    @torch.no_grad()
    def _block_pair(self, images: Tensor, n: int) -> tuple[Tensor, Tensor | None]:
        """``(input of encoder block n, projected teacher feature (B, d, H, W))`` for ``images``.

        The second entry is ``None`` without eigenbases (the teacher pipeline).
        """
        ae = self.net.autoencoder
        h = images
        for k in range(1, n):
            h, _ = ae.encoder.forward_block(k, h)
        if not self.net.is_student:
            return h, None
        feature = self.net.teacher().features(images, n)[n - 1]
        coefficients = ae.eigenbases[n].detach().T @ centre(feature)  # type: ignore[index]
        return h, coefficients.reshape(*coefficients.shape[:2], *feature.shape[-2:])

    @torch.no_grad()
    def _least_squares_decoder_init(self, batches: list[Tensor], n: int) -> float:
        """Fit the last conv of decoder block ``n`` to its target (image or previous student feature)."""
        ae = self.net.autoencoder
        pairs = []
        for images in batches:
            h, previous = images, images
            for k in range(1, n + 1):
                previous = h
                h, skip = ae.encoder.forward_block(k, h)
            pairs.append(((h, skip), previous))
        convs = block_convolutions(ae.decoder.block_parameters(n), ae.decoder)
        return least_squares_block_init(
            lambda x: ae.decoder.forward_block(n, *x),
            convs,
            pairs,
            identity_before=False,
            fit_intercept=True,
        )

    def _init_batches(self) -> list[Tensor]:
        """Up to ``eigen_batches - 1`` more training batches for a least-squares block init."""
        if self.hparams.block_init != "least_squares" or self._trainer is None:
            return []
        out = []
        for index, batch in enumerate(self._fresh_train_batches()):
            if index >= self.hparams.eigen_batches - 1:
                break
            out.append(
                self._images({k: v.to(self.device) if isinstance(v, Tensor) else v for k, v in batch.items()})
            )
        return out

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        """Reconstruction MSE of the whole autoencoder on the held-out content images."""
        content = batch["content"]
        h, w = content.shape[-2:]
        rec = self.net.autoencoder.reconstruct(pad_to_multiple(content, self.net.multiple_of))[..., :h, :w]
        self.log("val/loss", F.mse_loss(rec, content), prog_bar=True, batch_size=content.shape[0])

    test_step = validation_step

    # -------------------------------------------------------------------------- stylisation
    def variant(self) -> str:
        """Configuration string for tables."""
        hp = self.hparams
        ae = self.net.autoencoder
        solver = f"{hp.eigenbasis} eigenbases" + (
            f" ({hp.eigen_solver})" if hp.eigenbasis == "global" else ""
        )
        if not self.net.is_student:
            solver = "no eigenbases"
        inits = {"default": "", "data": ", data init", "least_squares": ", least-squares init"}
        training = f"blocks by {hp.block_optimizer}{inits[hp.block_init]}"
        if self.weights_source.startswith(("shipped", "weights")):  # trained elsewhere: say where it is told
            solver = f"{hp.eigenbasis} eigenbases (from the weights)"
            training = "trained as its .json record says"
        if self.net.is_student and hp.backbone == "vgg":
            training = f"{self.student_preprocess} input map, {training}"
        return (
            f"PCA-KD {hp.backbone} widths {list(ae.widths)}, HFR {hp.hfr}, {solver}, {training}, teacher "
            f"{hp.teacher_weights or 'random'} ({self.net.teacher_normalisation}), "
            f"ZCA +{hp.zca_regularizer:g}I both /N, "
            f"guided filter {'on' if hp.guided_filter else 'off'}, {self.weights_source}"
        )

    @classmethod
    def add_stylize_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """PCA-KD's ``stylelab stylize`` options."""
        parser.add_argument(
            "--guided-filter",
            dest="guided_filter",
            action="store_true",
            default=None,
            help="guided-filter post-processing (demo look; off for metrics)",
        )
        parser.add_argument(
            "--zca-regularizer",
            dest="zca_regularizer",
            type=float,
            default=None,
            help="r of the +rI ZCA regulariser (default 1)",
        )
        parser.add_argument(
            "--content-mask",
            dest="content_mask",
            default=None,
            help="colour-coded segmentation of the (single) content image",
        )
        parser.add_argument(
            "--style-mask",
            dest="style_mask",
            default=None,
            help="colour-coded segmentation of the (single) style image",
        )

    def stylize_options(self, options: argparse.Namespace) -> dict[str, Any]:
        """Keyword arguments of :meth:`stylize` (masks are handled by :meth:`stylize_files`)."""
        return {
            k: v
            for k, v in vars(options).items()
            if v is not None and k not in ("content_mask", "style_mask")
        }

    def stylize_files(
        self,
        contents: list[Path],
        styles: list[Path],
        output: Path,
        options: argparse.Namespace,
        load: Callable[[Path], Tensor],
    ) -> int:
        """As the base class; with ``--content-mask/--style-mask`` one masked (content, style) pair."""
        content_mask, style_mask = (
            getattr(options, "content_mask", None),
            getattr(options, "style_mask", None),
        )
        if content_mask is None and style_mask is None:
            return super().stylize_files(contents, styles, output, options, load)
        if content_mask is None or style_mask is None or len(contents) != 1 or len(styles) != 1:
            raise SystemExit("stylelab stylize: masks need exactly one --content, one --style and both masks")
        from stylelab.data.image_io import save_image
        from stylelab.data.masks import load_mask
        from stylelab.methods.pcakd.transfer import resize_labels

        content, style = load(contents[0]), load(styles[0])
        cm = resize_labels(load_mask(content_mask)[None], *content.shape[-2:]).to(content.device)
        sm = resize_labels(load_mask(style_mask)[None], *style.shape[-2:]).to(style.device)
        result = self.stylize(content, style, content_mask=cm, style_mask=sm, **self.stylize_options(options))
        target = output / f"{contents[0].stem}__{styles[0].stem}.png"
        save_image(result[0].cpu(), target)
        print(f"wrote {target}")
        return 0

    def stylize(
        self,
        content: Tensor,
        style: Tensor,
        content_mask: Tensor | None = None,
        style_mask: Tensor | None = None,
        guided_filter: bool | None = None,
        zca_regularizer: float | None = None,
        **options: Any,
    ) -> Tensor:
        """Stylise RGB [0, 1] ``(B, 3, H, W)`` content (any size) with ``(B or 1, 3, H_s, W_s)`` style.

        Args:
            content: Content images.
            style: Style images.
            content_mask: Optional labels ``(B, H, W)`` (spatial control).
            style_mask: Optional labels ``(B or 1, H_s, W_s)``.
            guided_filter: Override the module's ``guided_filter`` flag.
            zca_regularizer: Override ``zca_regularizer``.
            **options: Rejected (raises ``TypeError``).

        Returns:
            ``(B, 3, H, W)`` in [0, 1].
        """
        if options:
            raise TypeError(f"PCAKD.stylize got unknown options {sorted(options)}")
        hp = self.hparams
        gf = hp.guided_filter if guided_filter is None else guided_filter
        zca = ZCAConfig(regularizer=hp.zca_regularizer if zca_regularizer is None else zca_regularizer)
        multiple = self.net.multiple_of
        h, w = content.shape[-2:]

        def pad_mask(mask: Tensor | None) -> Tensor | None:
            if mask is None:
                return None
            return pad_to_multiple(mask[:, None].float(), multiple)[:, 0].long()

        with torch.no_grad():
            out = self.net.stylize(
                pad_to_multiple(content, multiple),
                pad_to_multiple(style, multiple),
                zca,
                pad_mask(content_mask),
                pad_mask(style_mask),
            )[..., :h, :w].clamp(0, 1)
            if gf:
                out = postprocess(out, content, hp.gf_radius, hp.gf_eps)
        return out
