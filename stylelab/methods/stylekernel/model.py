r"""Dynamic style kernels (SK; Xu, Long, Nie, CVPR 2023): the network, as a plain ``nn.Module``.

Pipeline (paper Fig. 2)::

    Z_c = E(I_c), Z_s = E(I_s)                       frozen VGG, relu4_1 [proposal]
    Z_cs = SAE+CGM(Z_c, Z_s)                         cosine attention, content-gated (attention.py)
    F1, F2, B = SKG(Z_cs)                            per-position k x 1, 1 x k filters and bias (kernels.py)
    Zbar_cs = GS(IN(Z_c)) *dyn (F1, F2) + B          group shuffle, dynamic separable conv (Eq. 6)
    I_cs = D(Zbar_cs)                                mirrored VGG decoder [proposal]

CPU-budget options (stylelab, not the paper; the zoo recipe ``configs/zoo/stylekernel.yaml``):
``decoder_init="pretrained_r31"`` works at relu3_1 of the shipped exact vgg_normalised encoder and starts
the decoder from the shipped pretrained relu3_1 decoder; ``kernel_skip`` makes SKG predict residuals on
``sigma * IN(Z_c) + mu`` (see :class:`StyleKernelGenerator`) with the style's channel moments
(``"style_moments"``: AdaIN at initialisation, and ``transfer(Z_c, Z_c) = Z_c``) or attention-weighted
per-position moments (``"attention_moments"``: SAE also aggregates ``Z_s^2``), so training starts from a
stylisation instead of noise.

``architecture="sanet"`` swaps SAE + SKG for a plain SANet-style attention (learned 1x1 projections of
the instance-normalised features, dot-product softmax, ``Z_c + conv(attention output)``), with or without
CGM: the paper's Fig. 8 plug-in experiment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from stylelab.backbones import VGGEncoder
from stylelab.methods.stylekernel.attention import AttentionStats, ContentGate, GateConfig, gated_attention
from stylelab.methods.stylekernel.kernels import PaddingMode, StyleKernelGenerator, dynamic_separable_conv
from stylelab.nn import MirroredVGGDecoder
from stylelab.nn.pretrained_r31 import ENCODER_WEIGHTS as R31_ENCODER_WEIGHTS
from stylelab.nn.pretrained_r31 import r31_decoder
from stylelab.ops import group_shuffle, instance_normalize

Architecture = Literal["style_kernel", "sanet"]
DecoderInit = Literal["random", "pretrained_r31"]
KernelSkip = Literal["none", "style_moments", "attention_moments"]
_WIDTHS = {"relu1_1": 64, "relu2_1": 128, "relu3_1": 256, "relu4_1": 512, "relu5_1": 512}


@dataclass
class Transfer:
    """What the feature transform produced for one (content, style) batch.

    Attributes:
        feature: Feature fed to the decoder, ``(B, C, H_c, W_c)`` (SK: ``Zbar_cs``).
        aligned: Attention output ``Z_cs``, ``(B, C, H_c, W_c)``.
        stats: Attention diagnostics (CGM kept fraction, empty rows, chunks).
        moments: The skip's style ``(mean, std)``, ``(B, C, H_c, W_c)`` or ``(B, C, 1, 1)``
            (``kernel_skip`` other than ``"none"``, else None).
    """

    feature: Tensor
    aligned: Tensor
    stats: AttentionStats
    moments: tuple[Tensor, Tensor] | None = None


class SANetAttention(nn.Module):
    """SANet's style-attentional module (Park & Lee 2019), one level, with optional CGM.

    ``f = W_f IN(Z_c)``, ``g = W_g IN(Z_s)``, ``h = W_h Z_s`` (1x1 convs), ``A = softmax_v(f_u . g_v)``,
    output ``Z_c + W_o (h A^T)``.

    Args:
        channels: Feature channels.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.f = nn.Conv2d(channels, channels, 1)
        self.g = nn.Conv2d(channels, channels, 1)
        self.h = nn.Conv2d(channels, channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)

    def projections(self, content_feat: Tensor, style_feat: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Query ``(B, C, N_c)``, key and value ``(B, C, N_s)``."""
        q = self.f(instance_normalize(content_feat)).flatten(2)
        k = self.g(instance_normalize(style_feat)).flatten(2)
        v = self.h(style_feat).flatten(2)
        return q, k, v


class StyleKernelNet(nn.Module):
    """Encoder, SAE + CGM, SKG, group shuffle, dynamic separable convolution, decoder.

    Args:
        encoder_arch: ``"vgg16"`` (paper) or ``"vgg19"``.
        encoder_weights: Registry weights (``None``: deterministic random weights, for tests).
        feature_layer: Tap where the transfer happens (``relu4_1`` [proposal]); the decoder mirrors it.
        encoder_last_tap: Deepest tap built (the losses need ``relu5_1``).
        architecture: ``"style_kernel"`` (SK) or ``"sanet"`` (plain SANet-style attention, Fig. 8).
        alpha: Initial softmax sharpness of the cosine attention [proposal 10].
        learn_alpha: Make ``alpha`` a trainable scalar [proposal] (else a constant).
        cgm: Gate the attention with CGM (``False``: plain softmax attention, the "w/o CGM" ablation).
        threshold_stat: CGM statistic, see :mod:`stylelab.methods.stylekernel.attention`.
        gate: ``"ste"`` or ``"soft"``.
        gate_tau: Temperature of the soft gate.
        renormalize: Renormalise gated rows to sum 1.
        gate_hidden: Hidden width of ``E_f``.
        lambda_init: Initial ``lambda`` (bias of ``E_f``'s output).
        beta_init: Initial ``beta``.
        relative_beta: ``beta`` in units of the row mean of the attention (see ``attention.py``).
        gate_normalize_input: Feed ``E_f`` the instance-normalised ``Z_c``.
        gate_per_position: ``lambda``, ``beta`` per content position (False: one pair per image).
        threshold_times_attention: The paper's literal Eq. 4, ``T = A (lambda S + beta r)``.
        kernel_size: ``k`` of the style kernels (paper 3).
        skg_hidden: Hidden width of SKG (default: the feature's channels).
        group_shuffle: Channel-shuffle the normalised content feature before the dynamic conv.
        shuffle_groups: Groups of the shuffle [proposal 8].
        kernel_padding: Padding of the dynamic convolution.
        norm_eps: Epsilon of the instance normalisation of ``Z_c`` (biased variance, like
            ``nn.InstanceNorm2d``).
        decoder_upsample: ``"nearest"`` (AdaIN/SANet decoders) or ``"bilinear"``.
        chunk_elements: Attention entries alive at once per sample (memory bound; ``None``: no chunks).
        decoder_init: ``"random"`` (paper) or ``"pretrained_r31"``: the shipped relu3_1 decoder (needs
            ``encoder_arch="vgg19"``, ``encoder_weights="vgg19_normalised_r31"``, ``feature_layer="relu3_1"``,
            ``decoder_upsample="nearest"``); it stays trainable.
        kernel_skip: ``"none"`` (paper), ``"style_moments"`` or ``"attention_moments"``: SKG predicts
            residuals on ``sigma * x + mu`` with the style feature's channel mean and standard deviation
            (biased), or the attention-weighted ones (``mu = Z_cs``) (style-kernel architecture only; meant
            with ``group_shuffle=False``).
        moment_eps: Variance epsilon of ``sigma``.

    The ``vgg19_normalised_r31`` encoder is built as its weights were trained (reflection padding), so
    ``encoder_last_tap`` must then be at most ``relu3_1``.

    Raises:
        ValueError: Unknown layer, architecture, decoder init or skip, or inconsistent options.
    """

    def __init__(
        self,
        encoder_arch: Literal["vgg16", "vgg19"] = "vgg16",
        encoder_weights: str | None = "vgg16_torchvision",
        feature_layer: str = "relu4_1",
        encoder_last_tap: str = "relu5_1",
        architecture: Architecture = "style_kernel",
        alpha: float = 10.0,
        learn_alpha: bool = True,
        cgm: bool = True,
        threshold_stat: str = "row_mean",
        gate: str = "ste",
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
        kernel_padding: PaddingMode = "reflect",
        norm_eps: float = 1e-5,
        decoder_upsample: Literal["nearest", "bilinear"] = "nearest",
        chunk_elements: int | None = 2**24,
        decoder_init: DecoderInit = "random",
        kernel_skip: KernelSkip = "none",
        moment_eps: float = 1e-5,
    ) -> None:
        super().__init__()
        if feature_layer not in _WIDTHS:
            raise ValueError(f"feature_layer must be one of {sorted(_WIDTHS)}; got {feature_layer!r}")
        if architecture not in ("style_kernel", "sanet"):
            raise ValueError(f"architecture must be 'style_kernel' or 'sanet'; got {architecture!r}")
        channels = _WIDTHS[feature_layer]
        if group_shuffle and channels % shuffle_groups:
            raise ValueError(f"shuffle_groups={shuffle_groups} must divide the {channels} feature channels")
        _check_budget_options(
            architecture,
            encoder_arch,
            encoder_weights,
            feature_layer,
            decoder_upsample,
            decoder_init,
            kernel_skip,
        )
        padding = "reflect" if encoder_weights == R31_ENCODER_WEIGHTS else "zero"
        self.encoder = VGGEncoder(
            encoder_arch, weights=encoder_weights, last_tap=encoder_last_tap, padding=padding
        )
        self.encoder.index_of(feature_layer)  # raises if the encoder stops before the feature layer
        self.feature_layer = feature_layer
        self.architecture = architecture
        self.gate_config = GateConfig(
            threshold_stat,  # type: ignore[arg-type]
            gate,  # type: ignore[arg-type]
            tau=gate_tau,
            renormalize=renormalize,
            relative_beta=relative_beta,
            threshold_times_attention=threshold_times_attention,
        )
        gate_args = (gate_hidden, lambda_init, beta_init, gate_normalize_input, gate_per_position)
        self.gate = ContentGate(channels, *gate_args) if cgm else None
        self.chunk_elements = chunk_elements
        if architecture == "style_kernel":
            alpha_tensor = torch.tensor(float(alpha))
            if learn_alpha:
                self.alpha = nn.Parameter(alpha_tensor)
            else:
                self.register_buffer("alpha", alpha_tensor)
            self.kernels: StyleKernelGenerator | None = StyleKernelGenerator(
                channels, kernel_size, skg_hidden, moment_skip=kernel_skip != "none"
            )
            self.sanet: SANetAttention | None = None
        else:
            self.register_buffer("alpha", torch.tensor(1.0))
            self.kernels = None
            self.sanet = SANetAttention(channels)
        self.group_shuffle = group_shuffle
        self.shuffle_groups = shuffle_groups
        self.kernel_padding: PaddingMode = kernel_padding
        self.norm_eps = norm_eps
        self.kernel_skip = kernel_skip
        self.moment_eps = moment_eps
        if decoder_init == "pretrained_r31":
            self.decoder = r31_decoder(pretrained=True)
        else:
            self.decoder = MirroredVGGDecoder(feature_layer, padding="reflect", upsample=decoder_upsample)

    # ------------------------------------------------------------------ pieces
    def encode(self, image: Tensor) -> Tensor:
        """Frozen-encoder feature at :attr:`feature_layer` for RGB [0,1] ``(B, 3, H, W)``."""
        return self.encoder(image, [self.feature_layer])[self.feature_layer]

    def align(self, content_feat: Tensor, style_feat: Tensor) -> tuple[Tensor, AttentionStats]:
        """SAE (+ CGM): ``Z_cs`` ``(B, C, H_c, W_c)`` from ``Z_c`` and ``Z_s`` ``(B, C, H_s, W_s)``.

        With ``kernel_skip="attention_moments"`` the values are ``[Z_s, Z_s^2]`` and the result has ``2C``
        channels (the attention-weighted first and second moments; see :meth:`transfer`).
        """
        b, c, h, w = content_feat.shape
        lam = beta = None
        if self.gate is not None:
            lam, beta = self.gate(content_feat)
        if self.sanet is not None:
            query, key, value = self.sanet.projections(content_feat, style_feat)
        else:
            query = F.normalize(content_feat.flatten(2), dim=1)
            key = F.normalize(style_feat.flatten(2), dim=1)
            value = style_feat.flatten(2)
            if self.kernel_skip == "attention_moments":
                value = torch.cat([value, value.square()], dim=1)
        aligned, stats = gated_attention(
            query, key, value, self.alpha, lam, beta, self.gate_config, self.chunk_elements
        )
        return aligned.view(b, value.shape[1], h, w), stats

    def prepare_content(self, content_feat: Tensor) -> Tensor:
        """``GS(IN(Z_c))``: instance-normalised (biased variance) and, if enabled, group-shuffled."""
        x = instance_normalize(content_feat, eps=self.norm_eps, unbiased=False)
        return group_shuffle(x, self.shuffle_groups) if self.group_shuffle else x

    def transfer(self, content_feat: Tensor, style_feat: Tensor) -> Transfer:
        """The feature transform: ``Zbar_cs`` (SK) or ``Z_c + W_o Z_cs`` (SANet variant)."""
        if style_feat.shape[0] == 1 and content_feat.shape[0] > 1:
            style_feat = style_feat.expand(content_feat.shape[0], -1, -1, -1)
        aligned, stats = self.align(content_feat, style_feat)
        if self.sanet is not None:
            return Transfer(content_feat + self.sanet.out(aligned), aligned, stats)
        assert self.kernels is not None
        moments = None
        if self.kernel_skip == "attention_moments":
            aligned, second = aligned.chunk(2, dim=1)
            moments = (aligned, ((second - aligned.square()).clamp_min(0) + self.moment_eps).sqrt())
        elif self.kernel_skip == "style_moments":
            variance = style_feat.var(dim=(2, 3), keepdim=True, unbiased=False)
            moments = (style_feat.mean(dim=(2, 3), keepdim=True), (variance + self.moment_eps).sqrt())
        vertical, horizontal, bias = self.kernels(aligned, moments)
        feature = dynamic_separable_conv(
            self.prepare_content(content_feat), vertical, horizontal, bias, self.kernel_padding
        )
        return Transfer(feature, aligned, stats, moments)

    def forward(self, content: Tensor, style: Tensor) -> Tensor:
        """Stylize RGB [0,1] ``(B, 3, H, W)`` content with ``(B|1, 3, H_s, W_s)`` style; unclamped RGB."""
        return self.decoder(self.transfer(self.encode(content), self.encode(style)).feature)

    def trainable_parameters(self) -> list[nn.Parameter]:
        """Every parameter except the frozen encoder's."""
        return [p for p in self.parameters() if p.requires_grad]


def _check_budget_options(
    architecture: str,
    encoder_arch: str,
    encoder_weights: str | None,
    feature_layer: str,
    decoder_upsample: str,
    decoder_init: str,
    kernel_skip: str,
) -> None:
    """Reject unknown or inconsistent ``decoder_init`` / ``kernel_skip`` settings (see the class doc)."""
    if decoder_init not in ("random", "pretrained_r31"):
        raise ValueError(f"decoder_init must be 'random' or 'pretrained_r31'; got {decoder_init!r}")
    if kernel_skip not in ("none", "style_moments", "attention_moments"):
        raise ValueError(
            f"kernel_skip must be 'none', 'style_moments' or 'attention_moments'; got {kernel_skip!r}"
        )
    if kernel_skip != "none" and architecture != "style_kernel":
        raise ValueError(f"kernel_skip={kernel_skip!r} needs architecture='style_kernel'")
    wanted = ("vgg19", R31_ENCODER_WEIGHTS, "relu3_1", "nearest")
    got = (encoder_arch, encoder_weights, feature_layer, decoder_upsample)
    if decoder_init == "pretrained_r31" and got != wanted:
        raise ValueError(
            "decoder_init='pretrained_r31' inverts relu3_1 of the vgg_normalised encoder: set encoder_arch, "
            f"encoder_weights, feature_layer, decoder_upsample to {wanted}; got {got}"
        )
