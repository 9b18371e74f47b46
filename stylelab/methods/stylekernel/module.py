"""Lightning plumbing for dynamic style kernels: manual G/D optimisation, D updated every 2nd G step.

With ``adv_weight = 0`` and no feature matching, no discriminator is built and every optimizer step is a
generator step (the zoo's CPU recipe).
"""

from __future__ import annotations

import argparse
from functools import partial
from typing import Any, Literal

import torch
from torch import Tensor

from stylelab.methods.base import StyleTransferMethod
from stylelab.methods.stylekernel.adversarial import feature_matching_loss
from stylelab.methods.stylekernel.model import StyleKernelNet
from stylelab.methods.stylekernel.objective import (
    CONTENT_LAYERS,
    RECONSTRUCTION_LAYERS,
    REMD_LAYERS,
    STYLE_LAYERS,
    LossWeights,
    ObjectiveConfig,
    generator_objective,
)
from stylelab.nn.discriminator import MultiScaleDiscriminator, lsgan_discriminator_loss
from stylelab.nn.pretrained_r31 import ENCODER_WEIGHTS as R31_ENCODER_WEIGHTS


class StyleKernel(StyleTransferMethod):
    """Dynamic style kernels (Xu, Long, Nie, CVPR 2023) as a stylelab method.

    Model options are those of :class:`~stylelab.methods.stylekernel.model.StyleKernelNet`; loss options
    those of :mod:`~stylelab.methods.stylekernel.objective`. Every [proposal] of the spec is one of
    these arguments (see the method README's deviations table).

    Args:
        encoder_arch: ``"vgg16"`` (paper) or ``"vgg19"``.
        encoder_weights: Registry weights (``None``: random, tests only).
        feature_layer: Transfer tap (relu4_1).
        architecture: ``"style_kernel"`` or ``"sanet"`` (plain SANet-style attention; Fig. 8).
        alpha: Initial cosine-attention sharpness.
        learn_alpha: Train ``alpha``.
        cgm: Use content-based gating modulation.
        threshold_stat: ``"row_mean"``, ``"similarity_row_mean"`` or ``"column_mean"``.
        gate: ``"ste"`` (hard, straight-through) or ``"soft"`` (sigmoid).
        gate_tau: Soft-gate temperature.
        renormalize: Renormalise the gated attention rows.
        gate_hidden: Hidden width of ``E_f``.
        lambda_init: Initial ``lambda``.
        beta_init: Initial ``beta``.
        relative_beta: ``beta`` in units of the attention row mean.
        gate_normalize_input: Feed ``E_f`` the instance-normalised content feature.
        gate_per_position: ``lambda``, ``beta`` per content position [proposal] (False: per image).
        threshold_times_attention: Eq. 4 literally, ``T = A (lambda S + beta r)`` (default: A dropped).
        kernel_size: Style-kernel size ``k``.
        skg_hidden: Hidden width of SKG (None: 512).
        group_shuffle: Shuffle the normalised content channels.
        shuffle_groups: Shuffle groups.
        kernel_padding: Padding of the dynamic convolution.
        decoder_upsample: Decoder upsampling.
        chunk_elements: Attention entries alive at once (per sample).
        decoder_init: ``"random"`` (paper) or ``"pretrained_r31"`` (the shipped relu3_1 decoder; needs the
            ``vgg19`` / ``vgg19_normalised_r31`` / ``relu3_1`` encoder) [CPU-budget option].
        kernel_skip: ``"none"`` (paper), ``"style_moments"`` or ``"attention_moments"``: SKG predicts
            residuals on AdaIN-like kernels, see :class:`StyleKernelNet` [CPU-budget option].
        adv_weight: ``lambda_adv``; 0 (with ``feature_matching_weight`` 0) builds no discriminator.
        rec_weight: ``lambda_rec``.
        rec_pixel_weight: ``lambda_rec1``.
        rec_feature_weight: ``lambda_rec2``.
        content_weight: ``lambda_cont``.
        style_weight: ``lambda_sty``.
        remd_weight: ``lambda_REMD``.
        feature_matching_weight: pix2pixHD's discriminator feature matching (``lambda_feat``, pix2pixHD
            10); 0 = off [proposal: the paper does not mention it].
        style_loss: ``"gram"`` or ``"mean_std"``.
        style_layers: Style-loss taps (default relu1_1..relu4_1).
        content_layers: Content-loss taps (default relu4_1, relu5_1).
        reconstruction_layers: Identity-loss taps (default relu2_1..relu5_1).
        rec_distance: Identity-loss distance: ``"mse"`` [proposal, SANet/IEC] or ``"l2"`` (the paper's
            ``||.||_2``: Euclidean norm per sample, batch mean).
        remd_operands: ``"output"`` or ``"aligned"``.
        remd_layers: REMD taps for ``"output"`` (default relu3_1, relu4_1).
        remd_samples: Random positions kept per side (None: all).
        disc_scales: Number of PatchGAN scales.
        disc_width: First-layer width of the discriminator.
        disc_layers: PatchGAN depth.
        d_every: Discriminator update after every ``d_every`` generator updates (paper 2).
        lr: Adam learning rate of the generator (paper 1e-4).
        d_lr: Discriminator learning rate (None: ``lr``).
        decoder_lr: Learning rate of the decoder (None: ``lr``); a pretrained decoder wants less: Adam's
            first, sign-like steps of ``1e-4`` on every weight wreck the pretrained relu3_1 decoder's
            reconstruction [CPU-budget option].
        g_betas: Adam betas of the generator.
        d_betas: Adam betas of the discriminator (IEC: 0.5, 0.999).
        lr_decay: Inverse-time decay ``lr / (1 + lr_decay * step)`` (IEC 5e-5; 0 disables).
        on_nonfinite: See :class:`StyleTransferMethod`.
    """

    method_name = "stylekernel"

    def __init__(
        self,
        encoder_arch: Literal["vgg16", "vgg19"] = "vgg16",
        encoder_weights: str | None = "vgg16_torchvision",
        feature_layer: str = "relu4_1",
        architecture: Literal["style_kernel", "sanet"] = "style_kernel",
        alpha: float = 10.0,
        learn_alpha: bool = True,
        cgm: bool = True,
        threshold_stat: Literal["row_mean", "similarity_row_mean", "column_mean"] = "row_mean",
        gate: Literal["ste", "soft"] = "ste",
        gate_tau: float = 0.5,
        renormalize: bool = True,
        gate_hidden: int = 256,
        lambda_init: float = 1.0,
        beta_init: float = 0.0,
        relative_beta: bool = True,
        gate_normalize_input: bool = True,
        gate_per_position: bool = True,
        threshold_times_attention: bool = False,
        kernel_size: int = 3,
        skg_hidden: int | None = None,
        group_shuffle: bool = True,
        shuffle_groups: int = 8,
        kernel_padding: Literal["reflect", "replicate", "zeros"] = "reflect",
        decoder_upsample: Literal["nearest", "bilinear"] = "nearest",
        chunk_elements: int | None = 2**24,
        decoder_init: Literal["random", "pretrained_r31"] = "random",
        kernel_skip: Literal["none", "style_moments", "attention_moments"] = "none",
        adv_weight: float = 1.0,
        rec_weight: float = 1.0,
        rec_pixel_weight: float = 20.0,
        rec_feature_weight: float = 0.5,
        content_weight: float = 1.0,
        style_weight: float = 1.0,
        remd_weight: float = 3.0,
        feature_matching_weight: float = 0.0,
        style_loss: Literal["gram", "mean_std"] = "gram",
        style_layers: list[str] | None = None,
        content_layers: list[str] | None = None,
        reconstruction_layers: list[str] | None = None,
        rec_distance: Literal["mse", "l2"] = "mse",
        remd_operands: Literal["output", "aligned"] = "output",
        remd_layers: list[str] | None = None,
        remd_samples: int | None = 4096,
        disc_scales: int = 2,
        disc_width: int = 64,
        disc_layers: int = 3,
        d_every: int = 2,
        lr: float = 1e-4,
        d_lr: float | None = None,
        decoder_lr: float | None = None,
        g_betas: list[float] | None = None,
        d_betas: list[float] | None = None,
        lr_decay: float = 5e-5,
        on_nonfinite: Literal["raise", "skip"] = "raise",
    ) -> None:
        super().__init__(on_nonfinite=on_nonfinite)
        if d_every < 1:
            raise ValueError(f"d_every must be >= 1; got {d_every}")
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.objective = ObjectiveConfig(
            weights=LossWeights(
                adv=adv_weight,
                rec=rec_weight,
                rec_pixel=rec_pixel_weight,
                rec_feature=rec_feature_weight,
                content=content_weight,
                style=style_weight,
                remd=remd_weight,
                feature_matching=feature_matching_weight,
            ),
            style_loss=style_loss,
            style_layers=tuple(style_layers or STYLE_LAYERS),
            content_layers=tuple(content_layers or CONTENT_LAYERS),
            reconstruction_layers=tuple(reconstruction_layers or RECONSTRUCTION_LAYERS),
            rec_distance=rec_distance,
            remd_operands=remd_operands,
            remd_layers=tuple(remd_layers or REMD_LAYERS),
            remd_samples=remd_samples,
        )
        taps = self.objective.taps(feature_layer)  # shallow to deep: the encoder is built up to taps[-1]
        if encoder_weights == R31_ENCODER_WEIGHTS and taps[-1] not in ("relu1_1", "relu2_1", "relu3_1"):
            raise ValueError(
                f"{R31_ENCODER_WEIGHTS} stops at relu3_1 but the losses need {taps}: set style_layers, "
                "content_layers, reconstruction_layers and remd_layers to taps up to relu3_1"
            )
        self.net = StyleKernelNet(
            encoder_arch=encoder_arch,
            encoder_weights=encoder_weights,
            feature_layer=feature_layer,
            encoder_last_tap=taps[-1],
            architecture=architecture,
            alpha=alpha,
            learn_alpha=learn_alpha,
            cgm=cgm,
            threshold_stat=threshold_stat,
            gate=gate,
            gate_tau=gate_tau,
            renormalize=renormalize,
            gate_hidden=gate_hidden,
            lambda_init=lambda_init,
            beta_init=beta_init,
            relative_beta=relative_beta,
            gate_normalize_input=gate_normalize_input,
            gate_per_position=gate_per_position,
            threshold_times_attention=threshold_times_attention,
            kernel_size=kernel_size,
            skg_hidden=skg_hidden,
            group_shuffle=group_shuffle,
            shuffle_groups=shuffle_groups,
            kernel_padding=kernel_padding,
            decoder_upsample=decoder_upsample,
            chunk_elements=chunk_elements,
            decoder_init=decoder_init,
            kernel_skip=kernel_skip,
        )
        self.discriminator: MultiScaleDiscriminator | None = None
        if adv_weight > 0 or feature_matching_weight > 0:
            self.discriminator = MultiScaleDiscriminator(
                disc_scales, base_width=disc_width, n_layers=disc_layers
            )
        self.register_buffer("generator_steps", torch.zeros((), dtype=torch.long))

    # ------------------------------------------------------------------ inference
    def variant(self) -> str:
        """Configuration string for tables."""
        h = self.hparams
        if h.architecture == "sanet":
            core = "SANet-style attention" + (" + CGM" if h.cgm else "")
        else:
            cgm = f"CGM ({h.gate}, {h.threshold_stat})" if h.cgm else "no CGM"
            shuffle = f"GS g={h.shuffle_groups}" if h.group_shuffle else "no GS"
            core = f"SK k={h.kernel_size}, {cgm}, {shuffle}"
        extras = ""
        if h.get("decoder_init", "random") != "random":
            extras += f", decoder from {h.decoder_init}"
        if h.get("kernel_skip", "none") != "none":
            extras += f", kernel skip {h.kernel_skip}"
        return f"{core}; {h.encoder_arch} {h.encoder_weights or 'random'} {h.feature_layer}{extras}"

    @classmethod
    def from_stylize_options(cls, options: argparse.Namespace) -> StyleTransferMethod:
        """The shipped zoo model (``load_zoo_method("stylekernel")``) when no ``--checkpoint`` is given.

        Raises:
            FileNotFoundError: The zoo ships no stylekernel weights (the message says how to train them).
        """
        from stylelab.zoo import load_zoo_method

        return load_zoo_method("stylekernel")

    @classmethod
    def add_stylize_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """``--chunk-elements``: attention entries alive at once (lower it for huge images)."""
        parser.add_argument(
            "--chunk-elements", type=int, default=None, help="attention entries computed at once per image"
        )

    def stylize(
        self, content: Tensor, style: Tensor, chunk_elements: int | None = None, **options: Any
    ) -> Tensor:
        """Stylize RGB [0,1] ``(B, 3, H, W)`` content with ``(B|1, 3, H_s, W_s)`` style; RGB [0,1] out.

        Args:
            content: Content images.
            style: Style images.
            chunk_elements: Overrides the attention chunk size for this call.
            options: None accepted.
        """
        if options:
            raise TypeError(f"StyleKernel.stylize got unknown options {sorted(options)}")
        previous = self.net.chunk_elements
        if chunk_elements is not None:
            self.net.chunk_elements = chunk_elements
        try:
            with torch.no_grad():
                return self.net(content, style).clamp(0, 1)
        finally:
            self.net.chunk_elements = previous

    # ------------------------------------------------------------------ training
    def training_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        """One generator update; one discriminator update after every ``d_every`` generator updates."""
        optimizers, schedulers = self.optimizers(), self.lr_schedulers()
        opt_g, opt_d = optimizers if isinstance(optimizers, list) else (optimizers, None)
        sched_g, sched_d = schedulers if isinstance(schedulers, list) else (schedulers, None)
        content, style = batch["content"], batch["style"]
        use_adv = self.hparams.adv_weight > 0 and self.discriminator is not None

        self.toggle_optimizer(opt_g)
        matching = None
        if self.objective.weights.feature_matching and self.discriminator is not None:
            matching = partial(feature_matching_loss, self.discriminator)
        step = generator_objective(
            self.net,
            content,
            style,
            self.objective,
            self.discriminator if use_adv else None,
            feature_matching=matching,
        )
        total = self.checked_loss(step.total, step.terms)
        self.log("train/cgm_kept_fraction", step.transfer.stats.kept_fraction)
        if self.net.architecture == "style_kernel":
            self.log("train/alpha", self.net.alpha.detach())
        if total is None:
            self.untoggle_optimizer(opt_g)
            return
        opt_g.zero_grad()
        self.manual_backward(total)
        opt_g.step()
        sched_g.step()
        self.untoggle_optimizer(opt_g)
        self.generator_steps += 1

        if use_adv and opt_d is not None and int(self.generator_steps) % self.hparams.d_every == 0:
            assert self.discriminator is not None and sched_d is not None
            self.toggle_optimizer(opt_d)
            fake = step.output.detach()
            loss_d = lsgan_discriminator_loss(self.discriminator(style), self.discriminator(fake))
            checked = self.checked_loss(loss_d, {"d_loss": loss_d})
            if checked is not None:
                opt_d.zero_grad()
                self.manual_backward(checked)
                opt_d.step()
                sched_d.step()
            self.untoggle_optimizer(opt_d)

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        """Log the generator objective (without the adversarial term) on held-out pairs."""
        step = generator_objective(self.net, batch["content"], batch["style"], self.objective)
        size = batch["content"].shape[0]
        self.log("val/loss", step.total, prog_bar=True, batch_size=size)
        for name in ("content", "style", "remd"):
            if name in step.terms:
                self.log(f"val/{name}", step.terms[name], batch_size=size)

    test_step = validation_step

    def configure_optimizers(self) -> Any:
        """Adam for G (every trainable non-encoder parameter) and D (if any), with inverse-time decay."""
        h = self.hparams
        decoder = {id(p) for p in self.net.decoder.parameters()}
        groups = [{"params": [p for p in self.net.trainable_parameters() if id(p) not in decoder]}]
        groups.append({"params": [p for p in self.net.decoder.parameters() if p.requires_grad]})
        if h.get("decoder_lr") is not None:
            groups[1]["lr"] = h.decoder_lr
        opt_g = torch.optim.Adam(groups, lr=h.lr, betas=tuple(h.g_betas or (0.9, 0.999)))
        decay = h.lr_decay

        def schedule(step: int) -> float:
            return 1.0 / (1.0 + decay * step)

        sched_g = torch.optim.lr_scheduler.LambdaLR(opt_g, schedule)
        if self.discriminator is None:
            return [opt_g], [sched_g]
        opt_d = torch.optim.Adam(
            self.discriminator.parameters(), lr=h.d_lr or h.lr, betas=tuple(h.d_betas or (0.5, 0.999))
        )
        sched_d = torch.optim.lr_scheduler.LambdaLR(opt_d, schedule)
        return [opt_g, opt_d], [sched_g, sched_d]
