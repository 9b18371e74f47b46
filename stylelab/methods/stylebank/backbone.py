"""StyleBank on the shipped relu3_1 pair (``backbone="vgg_r31"``): a deviation that trains on a CPU quickly.

The paper trains its own encoder ``E`` and decoder ``D`` from scratch (300k iterations on a GPU); on this
project's 2-core CPU 90 iterations give a 14 dB reconstruction, far from usable. With ``backbone="vgg_r31"``:

* ``E`` is the exact vgg_normalised VGG-19 up to relu3_1 (:func:`stylelab.nn.pretrained_r31.r31_encoder`),
  **frozen**: ``(B, 3, H, W)`` RGB [0, 1] → ``(B, 256, H/4, W/4)``;
* ``D`` starts from the pretrained relu3_1 decoder (:func:`stylelab.nn.pretrained_r31.r31_decoder`) and stays
  **trainable**: the stylising branch fine-tunes it together with the banks and the auto-encoder branch of
  Algorithm 1 keeps it an inverse of ``E`` (``L_I``, with ``E`` frozen the branch updates ``D`` only);
* each bank ``K_i`` is a ``k×k`` convolution ``256 → 256`` initialised as the identity (centre tap ``I``,
  bias 0), so ``D(K_i ⊗ E(I)) = D(E(I))`` exactly before training.

The frozen encoder is rebuilt from the registry by the constructor, so a zoo checkpoint stores only the
decoder, the banks and the style thumbnails.
"""

from __future__ import annotations

from torch import Tensor, nn

from stylelab.nn.pretrained_r31 import LAYER, r31_decoder, r31_encoder

#: Channels of relu3_1: the width of the banks with ``backbone="vgg_r31"``.
R31_CHANNELS = 256


class R31Encoder(nn.Module):
    """The frozen vgg_normalised encoder to relu3_1 as StyleBank's ``E`` (one tensor out, always eval).

    Shapes:
        ``(B, 3, H, W)`` RGB in [0, 1] (``H``, ``W`` multiples of 4) → ``(B, 256, H/4, W/4)``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.vgg = r31_encoder(frozen=True)

    def forward(self, image: Tensor) -> Tensor:
        """relu3_1 features of ``image``."""
        return self.vgg(image, [LAYER])[LAYER]

    def train(self, mode: bool = True) -> R31Encoder:
        """Stay in eval mode: the encoder is frozen."""
        return super().train(False)


def r31_stylebank_decoder() -> nn.Module:
    """``D``: the pretrained relu3_1 decoder (``(B, 256, h, w)`` → ``(B, 3, 4h, 4w)``), trainable."""
    return r31_decoder(pretrained=True)


__all__ = ["R31_CHANNELS", "R31Encoder", "r31_stylebank_decoder"]
