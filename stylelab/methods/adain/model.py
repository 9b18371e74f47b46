"""AdaIN (Huang & Belongie, ICCV 2017): the baseline every method in stylelab compares against.

``output = D(t)``, ``t = (1 - alpha) · f(c) + alpha · AdaIN(f(c), f(s))``, with ``f`` the frozen VGG-19 up to
relu4_1 (option: relu3_1) and ``D`` the mirrored decoder. Training minimises
``L = L_c + λ L_s``, ``L_c = MSE(f(D(t)), t)``, ``L_s = Σ_l MSE(μ(φ_l(D(t))), μ(φ_l(s))) + MSE(σ(·), σ(·))``
over relu1_1, relu2_1, relu3_1, relu4_1.

``decoder="pretrained_r31"`` builds the shipped pretrained relu3_1 pair instead
(:mod:`stylelab.nn.pretrained_r31`: exact vgg_normalised encoder, reflection padding, and the decoder trained
to invert it), so AdaIN stylises real images with no training and fine-tunes from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch.nn.functional as F
from torch import Tensor, nn

from stylelab.backbones import VGGEncoder
from stylelab.losses import mean_std_style_loss
from stylelab.nn import MirroredVGGDecoder
from stylelab.nn.pretrained_r31 import DECODER_WEIGHTS, ENCODER_WEIGHTS, r31_decoder, r31_encoder
from stylelab.ops import adain

STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
DecoderInit = Literal["random", "pretrained_r31"]


class AdaINNet(nn.Module):
    """Encoder (frozen VGG-19 to ``layer``), AdaIN, mirrored decoder.

    Args:
        encoder_weights: Weights registry name for the VGG-19 (``None``: random, for tests).
        layer: Tap where AdaIN is applied and the decoder starts (paper: ``relu4_1``; ``relu3_1`` is the
            shallower, faster-to-train variant).
        style_layers: Taps of the mean/std style loss (default: every ``reluK_1`` up to ``layer``).
        eps: Variance epsilon of AdaIN and of the loss statistics (pytorch-AdaIN: 1e-5, unbiased).
        upsample: Decoder upsampling mode.
        decoder: ``"random"`` (PyTorch init, the paper) or ``"pretrained_r31"``: the shipped relu3_1 pair
            (needs ``encoder_weights="vgg19_normalised_r31"`` and ``layer="relu3_1"``; the decoder stays
            trainable, so fitting fine-tunes it).

    Raises:
        ValueError: Unknown layer or decoder, or ``"pretrained_r31"`` with another encoder or layer.
    """

    def __init__(
        self,
        encoder_weights: str | None = "vgg19_caffe_q8",
        layer: str = "relu4_1",
        style_layers: Sequence[str] | None = None,
        eps: float = 1e-5,
        upsample: str = "nearest",
        decoder: DecoderInit = "random",
    ) -> None:
        super().__init__()
        if layer not in STYLE_LAYERS:
            raise ValueError(f"layer must be one of {STYLE_LAYERS}, got {layer!r}")
        if decoder not in ("random", "pretrained_r31"):
            raise ValueError(f"decoder must be 'random' or 'pretrained_r31', got {decoder!r}")
        self.layer = layer
        if decoder == "pretrained_r31":
            if encoder_weights != ENCODER_WEIGHTS or layer != "relu3_1" or upsample != "nearest":
                raise ValueError(
                    f"decoder='pretrained_r31' ({DECODER_WEIGHTS}) inverts relu3_1 of {ENCODER_WEIGHTS}: set "
                    f"encoder_weights={ENCODER_WEIGHTS!r}, layer='relu3_1', upsample='nearest' (got "
                    f"{encoder_weights!r}, {layer!r}, {upsample!r})"
                )
            self.encoder = r31_encoder()
            self.decoder = r31_decoder(pretrained=True)
        else:
            self.encoder = VGGEncoder("vgg19", weights=encoder_weights, last_tap=layer)
            self.decoder = MirroredVGGDecoder(layer, padding="reflect", upsample=upsample)  # type: ignore[arg-type]
        if style_layers is None:
            style_layers = STYLE_LAYERS[: STYLE_LAYERS.index(layer) + 1]
        self.style_layers = tuple(style_layers)
        self.eps = eps

    def transfer(self, content_feat: Tensor, style_feat: Tensor, alpha: float = 1.0) -> Tensor:
        """AdaIN target ``t`` blended with the content feature by ``alpha``: ``(B, C, h, w)``."""
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        return adain(content_feat, style_feat, eps=self.eps, alpha=alpha)

    def forward(self, content: Tensor, style: Tensor, alpha: float = 1.0) -> Tensor:
        """Stylize ``(B,3,H,W)`` content with ``(B or 1,3,H_s,W_s)`` style; returns unclamped RGB."""
        content_feat = self.encoder(content)[self.layer]
        style_feat = self.encoder(style)[self.layer]
        if style_feat.shape[0] == 1 and content_feat.shape[0] > 1:
            style_feat = style_feat.expand(content_feat.shape[0], -1, -1, -1)
        return self.decoder(self.transfer(content_feat, style_feat, alpha))

    def losses(self, content: Tensor, style: Tensor) -> dict[str, Tensor]:
        """AdaIN training losses for a batch.

        Returns:
            ``{"content": L_c, "style": L_s}`` scalars.
        """
        taps = sorted({*self.style_layers, self.layer}, key=self.encoder.index_of)
        style_feats = self.encoder(style, taps)
        content_feat = self.encoder(content)[self.layer]
        target = self.transfer(content_feat, style_feats[self.layer])
        output = self.decoder(target)
        out_feats = self.encoder(output, taps)
        loss_c = F.mse_loss(out_feats[self.layer], target)
        loss_s = mean_std_style_loss(out_feats, style_feats, self.style_layers, eps=self.eps)
        return {"content": loss_c, "style": loss_s}
