"""The pretrained relu3_1 pipeline: exact vgg_normalised encoder to relu3_1 and the decoder that inverts it.

Both weight sets ship with stylelab (registry ``vgg19_normalised_r31`` and
``vgg19_normalised_r31_decoder``: LinearStyleTransfer's ``encoder3`` / ``decoder3``), so every method built
on this pair stylises real images with no training and no download: WCT, AdaIN's transform, IFT's
``pretrained_r31`` preset and knowledge transfer's ``decoder: pretrained_r31``.

Example:
    >>> pipe = PretrainedR31()                      # doctest: +SKIP
    >>> feature = pipe.encode(image)                # (B, 256, H/4, W/4)
    >>> image_back = pipe.decode(feature)           # (B, 3, H, W), RGB clamped to [0, 1]
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from stylelab.backbones import VGGEncoder, load_weights
from stylelab.nn.vgg_decoder import MirroredVGGDecoder

ENCODER_WEIGHTS = "vgg19_normalised_r31"
DECODER_WEIGHTS = "vgg19_normalised_r31_decoder"
LAYER = "relu3_1"
#: The encoder pools twice: image sides must be multiples of 4 for the decoder to return the input size.
MULTIPLE_OF = 4


def r31_encoder(frozen: bool = True) -> VGGEncoder:
    """The exact vgg_normalised VGG-19 up to relu3_1, laid out as LinearStyleTransfer's ``encoder3``.

    Reflection padding, max pooling with ``ceil_mode=False`` (LinearStyleTransfer's layers).
    """
    return VGGEncoder("vgg19", weights=ENCODER_WEIGHTS, last_tap=LAYER, padding="reflect", frozen=frozen)


def r31_decoder(pretrained: bool = True) -> MirroredVGGDecoder:
    """``MirroredVGGDecoder("relu3_1")`` (reflection padding, nearest upsampling) with the pretrained weights.

    Args:
        pretrained: Load ``vgg19_normalised_r31_decoder``; ``False`` keeps PyTorch's random init.
    """
    decoder = MirroredVGGDecoder(LAYER, padding="reflect", upsample="nearest")
    if pretrained:
        decoder.load_state_dict(load_weights(DECODER_WEIGHTS))
    return decoder


class PretrainedR31(nn.Module):
    """Frozen encoder to relu3_1 and its pretrained decoder.

    Args:
        frozen_decoder: Freeze the decoder too (inference pipelines); ``False`` lets a method fine-tune it.

    Shapes:
        :meth:`encode`: ``(B, 3, H, W)`` RGB [0, 1] → ``(B, 256, H/4, W/4)`` (``H``, ``W`` multiples of 4
        for an exact round trip); :meth:`decode`: ``(B, 256, h, w)`` → ``(B, 3, 4h, 4w)`` in [0, 1].
    """

    def __init__(self, frozen_decoder: bool = True) -> None:
        super().__init__()
        self.encoder = r31_encoder()
        self.decoder = r31_decoder()
        if frozen_decoder:
            self.decoder.requires_grad_(False)
            self.decoder.eval()
        self.frozen_decoder = frozen_decoder

    def encode(self, image: Tensor, taps: Sequence[str] = (LAYER,)) -> Tensor | dict[str, Tensor]:
        """relu3_1 of ``image`` (a tensor), or ``{tap: feature}`` when several ``taps`` are asked for."""
        feats = self.encoder(image, list(taps))
        return feats[LAYER] if tuple(taps) == (LAYER,) else feats

    def decode(self, feature: Tensor, clamp: bool = True) -> Tensor:
        """Image from a relu3_1 feature; ``clamp=False`` returns the raw output (for training losses)."""
        image = self.decoder(feature)
        return image.clamp(0, 1) if clamp else image

    def forward(self, image: Tensor) -> Tensor:
        """Reconstruction ``decode(encode(image))`` ``(B, 3, H, W)``."""
        return self.decode(self.encode(image))  # type: ignore[arg-type]

    def train(self, mode: bool = True) -> PretrainedR31:
        """Keep a frozen decoder in eval mode whatever the parent module does."""
        super().train(mode)
        if getattr(self, "frozen_decoder", False):
            self.decoder.eval()
        return self

    def variant(self) -> str:
        """One line for tables: which weights."""
        return "vgg_normalised relu3_1 encoder + pretrained decoder (LinearStyleTransfer encoder3/decoder3)"
