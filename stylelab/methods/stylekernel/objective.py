r"""SK's generator objective (paper Eq. 7-9) on top of :class:`StyleKernelNet`.

``L = lambda_adv L_adv + lambda_rec L_rec + lambda_cont L_cont + lambda_sty L_sty + lambda_REMD L_REMD``
with the paper's weights ``1, 1, 1, 1, 3`` and, inside ``L_rec``, ``lambda_rec1 = 20``, ``lambda_rec2 = 0.5``:

* ``L_rec = lambda_rec1 (MSE(I_cc, I_c) + MSE(I_ss, I_s))
  + lambda_rec2 sum_{l in relu2_1..relu5_1} (MSE(phi_l(I_cc), phi_l(I_c)) + MSE(phi_l(I_ss), phi_l(I_s)))``
  where ``I_cc`` (``I_ss``) is the output for content = style = ``I_c`` (``I_s``). The paper writes
  ``||.||_2``; SANet/IEC use MSE [proposal: MSE; ``rec_distance="l2"``: the Euclidean norm of the
  difference per sample, averaged over the batch].
* ``L_cont``: SANet's normalised feature MSE on relu4_1 + relu5_1 (:func:`normalized_content_loss`).
* ``L_sty``: Gram MSE (Johnson; ``G = F F^T / (C N)``) on relu1_1..relu4_1 [proposal], or mean/std.
* ``L_REMD``: relaxed EMD with cosine cost, random subsampling of positions; operands
  ``"output"`` [proposal]: VGG features of ``I_cs`` vs ``I_s`` at relu3_1, relu4_1 (summed), or
  ``"aligned"`` (the paper's literal ``Z_cs`` vs ``Z_s``, which does not reach the decoder).
* ``L_adv``: LSGAN generator loss of a multi-scale PatchGAN on ``I_cs`` (real samples: style images).
* ``L_FM`` (pix2pixHD feature matching, not in the paper): ``feature_matching`` weight, 0 by default
  [proposal: off]; see :mod:`~stylelab.methods.stylekernel.adversarial`.

``phi`` is the model's own frozen encoder (the paper's VGG-16) [proposal].
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from stylelab.losses import feature_mse_loss, gram_style_loss, mean_std_style_loss, normalized_content_loss
from stylelab.methods.stylekernel.model import StyleKernelNet, Transfer
from stylelab.nn.discriminator import lsgan_generator_loss
from stylelab.ops import remd

STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
CONTENT_LAYERS = ("relu4_1", "relu5_1")
RECONSTRUCTION_LAYERS = ("relu2_1", "relu3_1", "relu4_1", "relu5_1")
REMD_LAYERS = ("relu3_1", "relu4_1")

Discriminator = Callable[[Tensor], Sequence[Tensor]]


@dataclass
class LossWeights:
    """The paper's loss weights (Sec. 4)."""

    adv: float = 1.0
    rec: float = 1.0
    rec_pixel: float = 20.0
    rec_feature: float = 0.5
    content: float = 1.0
    style: float = 1.0
    remd: float = 3.0
    feature_matching: float = 0.0


@dataclass
class ObjectiveConfig:
    """Which losses, layers and variants the generator objective uses.

    Attributes:
        weights: Loss weights.
        style_loss: ``"gram"`` [proposal, Johnson as cited] or ``"mean_std"`` (AdaIN/SANet/IEC).
        style_layers: Taps of the style loss.
        content_layers: Taps of the normalised content loss.
        reconstruction_layers: Taps of the perceptual identity loss.
        rec_distance: ``"mse"`` [proposal] or ``"l2"`` (per-sample Euclidean norm, batch mean).
        remd_operands: ``"output"`` or ``"aligned"``.
        remd_layers: Taps of the REMD loss (``"output"`` operands).
        remd_samples: At most this many random positions per side (``None``: all).
    """

    weights: LossWeights = field(default_factory=LossWeights)
    style_loss: Literal["gram", "mean_std"] = "gram"
    style_layers: tuple[str, ...] = STYLE_LAYERS
    content_layers: tuple[str, ...] = CONTENT_LAYERS
    reconstruction_layers: tuple[str, ...] = RECONSTRUCTION_LAYERS
    rec_distance: Literal["mse", "l2"] = "mse"
    remd_operands: Literal["output", "aligned"] = "output"
    remd_layers: tuple[str, ...] = REMD_LAYERS
    remd_samples: int | None = 4096

    def __post_init__(self) -> None:
        """Check the variant names."""
        if self.style_loss not in ("gram", "mean_std"):
            raise ValueError(f"style_loss must be 'gram' or 'mean_std'; got {self.style_loss!r}")
        if self.rec_distance not in ("mse", "l2"):
            raise ValueError(f"rec_distance must be 'mse' or 'l2'; got {self.rec_distance!r}")
        if self.remd_operands not in ("output", "aligned"):
            raise ValueError(f"remd_operands must be 'output' or 'aligned'; got {self.remd_operands!r}")

    def taps(self, feature_layer: str) -> list[str]:
        """Every tap the objective needs from the encoder, shallow to deep."""
        names = {*self.style_layers, *self.content_layers, *self.reconstruction_layers, feature_layer}
        if self.remd_operands == "output":
            names |= set(self.remd_layers)
        return sorted(names, key=lambda n: (int(n[4]), n))


@dataclass
class GeneratorStep:
    """Result of one evaluation of the generator objective.

    Attributes:
        total: Weighted sum to minimise.
        terms: Unweighted loss terms (and ``loss`` = total) for logging.
        output: The stylised batch ``I_cs`` ``(B, 3, H, W)`` (unclamped), for the discriminator.
        transfer: The transfer of ``(I_c, I_s)`` (attention statistics for logging).
    """

    total: Tensor
    terms: dict[str, Tensor]
    output: Tensor
    transfer: Transfer


def _l2_distance(x: Tensor, y: Tensor) -> Tensor:
    """``mean_b ||x_b - y_b||_2`` for ``(B, ...)`` tensors (the paper's literal identity-loss norm)."""
    return (x - y).flatten(1).norm(dim=1).mean()


def generator_objective(
    net: StyleKernelNet,
    content: Tensor,
    style: Tensor,
    config: ObjectiveConfig,
    discriminator: Discriminator | None = None,
    generator: torch.Generator | None = None,
    feature_matching: Callable[[Tensor, Tensor], Tensor] | None = None,
) -> GeneratorStep:
    """Evaluate SK's generator loss on a batch.

    Args:
        net: The model.
        content: ``(B, 3, H, W)`` RGB [0, 1].
        style: ``(B, 3, H', W')`` RGB [0, 1].
        config: Loss settings.
        discriminator: ``D(images) -> score maps``; ``None`` leaves ``L_adv`` out (validation).
        generator: Random generator for REMD's position sampling.
        feature_matching: ``(fake, real) -> loss`` (pix2pixHD feature matching with ``style`` as the real
            images); used when given and ``weights.feature_matching > 0``.

    Returns:
        The weighted total, the terms and the stylised images.
    """
    w = config.weights
    taps = config.taps(net.feature_layer)
    layer = net.feature_layer
    feats_c = net.encoder(content, taps)
    feats_s = net.encoder(style, taps)
    stylised = net.transfer(feats_c[layer], feats_s[layer])
    output = net.decoder(stylised.feature)
    feats_o = net.encoder(output, taps)

    terms: dict[str, Tensor] = {}
    terms["content"] = normalized_content_loss(feats_o, feats_c, config.content_layers)
    if config.style_loss == "gram":
        terms["style"] = gram_style_loss(feats_o, feats_s, config.style_layers)
    else:
        terms["style"] = mean_std_style_loss(feats_o, feats_s, config.style_layers)

    if w.rec:
        rec_layers = list(config.reconstruction_layers)
        out_cc = net.decoder(net.transfer(feats_c[layer], feats_c[layer]).feature)
        out_ss = net.decoder(net.transfer(feats_s[layer], feats_s[layer]).feature)
        feats_cc, feats_ss = net.encoder(out_cc, rec_layers), net.encoder(out_ss, rec_layers)
        if config.rec_distance == "mse":
            terms["rec_pixel"] = F.mse_loss(out_cc, content) + F.mse_loss(out_ss, style)
            terms["rec_feature"] = feature_mse_loss(feats_cc, feats_c, rec_layers) + feature_mse_loss(
                feats_ss, feats_s, rec_layers
            )
        else:
            terms["rec_pixel"] = _l2_distance(out_cc, content) + _l2_distance(out_ss, style)
            pairs_cc = [_l2_distance(feats_cc[n], feats_c[n]) for n in rec_layers]
            pairs_ss = [_l2_distance(feats_ss[n], feats_s[n]) for n in rec_layers]
            terms["rec_feature"] = torch.stack(pairs_cc + pairs_ss).sum()
        terms["rec"] = w.rec_pixel * terms["rec_pixel"] + w.rec_feature * terms["rec_feature"]

    if w.remd:
        if config.remd_operands == "output":
            pairs = [(feats_o[name], feats_s[name]) for name in config.remd_layers]
        else:
            pairs = [(stylised.aligned, feats_s[layer])]
        terms["remd"] = torch.stack(
            [remd(x, y, config.remd_samples, generator).mean() for x, y in pairs]
        ).sum()

    if discriminator is not None and w.adv:
        terms["adv"] = lsgan_generator_loss(discriminator(output))
    if feature_matching is not None and w.feature_matching:
        terms["feature_matching"] = feature_matching(output, style)

    total = w.content * terms["content"] + w.style * terms["style"]
    if "rec" in terms:
        total = total + w.rec * terms["rec"]
    if "remd" in terms:
        total = total + w.remd * terms["remd"]
    if "adv" in terms:
        total = total + w.adv * terms["adv"]
    if "feature_matching" in terms:
        total = total + w.feature_matching * terms["feature_matching"]
    terms = {"loss": total, **terms}
    return GeneratorStep(total, terms, output, stylised)
