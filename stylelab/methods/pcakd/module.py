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

import math
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from stylelab.methods.base import StyleTransferMethod
from stylelab.methods.pcakd.block_setup import PCAKDBlockSetup
from stylelab.methods.pcakd.eigenbases import Eigenbases
from stylelab.methods.pcakd.inference import PCAKDInference
from stylelab.methods.pcakd.lbfgs import RejectedStep, lbfgs_step
from stylelab.methods.pcakd.model import PCAKDNet, check_term_weights, pad_to_multiple, weighted_total
from stylelab.methods.pcakd.official import OFFICIAL_TEACHER_CHANNELS, OFFICIAL_WIDTHS, load_official_state
from stylelab.methods.pcakd.pretrained import (
    SHIPPED,
    architecture_record,
    load_student,
    student_architecture,
)

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


class PCAKD(PCAKDInference, PCAKDBlockSetup, StyleTransferMethod):
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
        pretrained: ``"auto"`` (stylelab's shipped student when the architecture matches it, else
            random init), a shipped name (``"vgg"``), ``"official_vgg"`` / ``"official_mobilenet"`` (the
            PCA-KD authors' trained students, :mod:`.official`; the backbone must match, default
            widths and box HFR), a ``.safetensors`` path, or ``None`` (random init). The official
            MobileNet student's eigenbases are sized for the Keras MobileNet v1 teacher, which stylelab
            lacks: it stylises but cannot be trained further.
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
        term_weights: Weights of the loss terms by name (``distill``, ``feature``, ``image``,
            ``perceptual``, ``pca_rec``, ``orth``); unnamed terms weigh 1 (``None``: the reference code's
            unit weights) [deviation option, see the README's "Distillation budget"].
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
        term_weights: dict[str, float] | None = None,
    ) -> None:
        super().__init__(on_nonfinite=on_nonfinite)
        check_term_weights(term_weights)
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
        if pretrained in ("official_vgg", "official_mobilenet"):
            return self._load_official(pretrained.removeprefix("official_"))
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

    def _load_official(self, backbone: str) -> str:
        hp = self.hparams
        if (
            hp.backbone != backbone
            or hp.hfr != "box"
            or tuple(self.net.autoencoder.widths) != (OFFICIAL_WIDTHS[backbone])
        ):
            raise ValueError(
                f"pretrained='official_{backbone}' needs backbone={backbone!r}, hfr='box' and the default "
                f"widths {list(OFFICIAL_WIDTHS[backbone])}"
            )
        ae = self.net.autoencoder
        if backbone == "mobilenet":  # bases sized for the Keras MobileNet v1 teacher taps
            ae.eigenbases = Eigenbases(OFFICIAL_TEACHER_CHANNELS[backbone], ae.widths)
        ae.load_state_dict(load_official_state(backbone))  # type: ignore[arg-type]
        if backbone == "vgg":
            self.student_preprocess = "random"  # the authors' frozen random 1x1 conv, loaded above
        return f"official student {backbone!r} (pcakd_{backbone}_official)"

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
        """Exact eigenbases (once, before the blocks) when ``eigen_solver="exact"``.

        Raises:
            ValueError: The eigenbases do not fit the teacher's taps (the official MobileNet student's
                are sized for Keras MobileNet v1; stylelab's MobileNet teacher is a V2 stand-in).
        """
        hp = self.hparams
        bases = self.net.autoencoder.eigenbases
        if bases is not None and hp.backbone == "mobilenet":
            teacher_channels = tuple(self.net.teacher().channels)
            if tuple(bases[n].shape[0] for n in range(1, 5)) != teacher_channels:
                raise ValueError(
                    f"these eigenbases need teacher taps of {[bases[n].shape[0] for n in range(1, 5)]} "
                    f"channels, the MobileNet teacher has {list(teacher_channels)}: the official MobileNet "
                    "student cannot be trained here (no Keras MobileNet v1 weights)"
                )
        if self.net.is_student and hp.eigenbasis == "global" and hp.eigen_solver == "exact":
            if not bool(self.eigen_fitted):
                self.fit_exact_eigenbases(self._fresh_train_batches())

    def _fresh_train_batches(self) -> Any:
        datamodule = getattr(self.trainer, "datamodule", None)
        if datamodule is not None:
            return datamodule.train_dataloader()
        return self.trainer.train_dataloader

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
            return weighted_total(terms, self.hparams.term_weights), terms

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

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        """Reconstruction MSE of the whole autoencoder on the held-out content images."""
        content = batch["content"]
        h, w = content.shape[-2:]
        rec = self.net.autoencoder.reconstruct(pad_to_multiple(content, self.net.multiple_of))[..., :h, :w]
        self.log("val/loss", F.mse_loss(rec, content), prog_bar=True, batch_size=content.shape[0])

    test_step = validation_step
