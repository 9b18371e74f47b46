"""Multi-scale PatchGAN discriminator (pix2pixHD, Wang et al. 2018) and the LSGAN objective.

Each scale is a PatchGAN (``n_layers = 3``)::

    conv4x4/2 (3 -> 64) + LeakyReLU(0.2)
    conv4x4/2 (64 -> 128) + IN + LeakyReLU      # widths double, capped at 512
    conv4x4/2 (128 -> 256) + IN + LeakyReLU
    conv4x4/1 (256 -> 512) + IN + LeakyReLU     # the last two convs have stride 1
    conv4x4/1 (512 -> 1)                        # one real/fake score per patch

with padding ``ceil((4 - 1) / 2) = 2`` and InstanceNorm without affine parameters. Scale ``i`` sees the
image average-pooled ``i`` times (3x3, stride 2, padding 1, padding not counted). The LSGAN objective
(Mao et al. 2017) replaces the log loss by least squares: ``D`` regresses 1 on real and 0 on fake
samples, ``G`` pushes the scores of its samples towards 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class PatchDiscriminator(nn.Module):
    """One PatchGAN scale of pix2pixHD's ``NLayerDiscriminator``.

    Args:
        in_channels: Image channels.
        base_width: Width of the first conv (pix2pixHD ``ndf = 64``).
        n_layers: Number of stride-2 convs plus one (pix2pixHD default 3).
        max_width: Cap on the conv widths.
        norm: ``"instance"`` (pix2pixHD default, no affine) or ``"none"``.

    Shapes:
        input ``(B, C, H, W)`` → patch scores ``(B, 1, H', W')`` with ``H' ≈ H / 2^n_layers + 2``.
    """

    def __init__(
        self,
        in_channels: int = 3,
        base_width: int = 64,
        n_layers: int = 3,
        max_width: int = 512,
        norm: str = "instance",
    ) -> None:
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"n_layers must be >= 1; got {n_layers}")
        if norm not in ("instance", "none"):
            raise ValueError(f"norm must be 'instance' or 'none'; got {norm!r}")
        pad = math.ceil((4 - 1) / 2)

        def normalise(width: int) -> list[nn.Module]:
            return [nn.InstanceNorm2d(width, affine=False)] if norm == "instance" else []

        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, base_width, 4, stride=2, padding=pad),
            nn.LeakyReLU(0.2),
        ]
        width = base_width
        for _ in range(1, n_layers):
            previous, width = width, min(width * 2, max_width)
            layers += [
                nn.Conv2d(previous, width, 4, stride=2, padding=pad),
                *normalise(width),
                nn.LeakyReLU(0.2),
            ]
        previous, width = width, min(width * 2, max_width)
        layers += [nn.Conv2d(previous, width, 4, stride=1, padding=pad), *normalise(width), nn.LeakyReLU(0.2)]
        layers.append(nn.Conv2d(width, 1, 4, stride=1, padding=pad))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """Patch scores ``(B, 1, H', W')`` for images ``(B, C, H, W)``."""
        return self.net(x)


class MultiScaleDiscriminator(nn.Module):
    """pix2pixHD's ``MultiscaleDiscriminator``: ``num_scales`` PatchGANs on an image pyramid.

    Args:
        num_scales: Number of PatchGANs (pix2pixHD training option ``--num_D 2``; class default and
            IEC use 3).
        in_channels: Image channels.
        base_width: First-layer width of every scale.
        n_layers: Depth of every scale (see :class:`PatchDiscriminator`).
        norm: ``"instance"`` or ``"none"``.

    Shapes:
        input ``(B, C, H, W)`` → list of ``num_scales`` score maps, the full-resolution scale first.
    """

    def __init__(
        self,
        num_scales: int = 2,
        in_channels: int = 3,
        base_width: int = 64,
        n_layers: int = 3,
        norm: str = "instance",
    ) -> None:
        super().__init__()
        if num_scales < 1:
            raise ValueError(f"num_scales must be >= 1; got {num_scales}")
        self.scales = nn.ModuleList(
            PatchDiscriminator(in_channels, base_width, n_layers, norm=norm) for _ in range(num_scales)
        )

    @staticmethod
    def downsample(x: Tensor) -> Tensor:
        """pix2pixHD's pyramid step: 3x3 average pool, stride 2, padding 1 not counted."""
        return F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)

    def forward(self, x: Tensor) -> list[Tensor]:
        """Score maps of every scale for images ``(B, C, H, W)``, finest first."""
        outputs = []
        for index, scale in enumerate(self.scales):
            if index > 0:
                x = self.downsample(x)
            outputs.append(scale(x))
        return outputs


def lsgan_loss(scores: Sequence[Tensor], target: float) -> Tensor:
    """LSGAN loss summed over scales: ``sum_i mean (D_i - target)^2``.

    Args:
        scores: Score maps of a :class:`MultiScaleDiscriminator`, each ``(B, 1, H_i, W_i)``.
        target: 1.0 for "real", 0.0 for "fake".

    Returns:
        Scalar loss.

    Raises:
        ValueError: ``scores`` is empty.
    """
    if len(scores) == 0:
        raise ValueError("scores must hold at least one score map")
    return torch.stack([(s - target).pow(2).mean() for s in scores]).sum()


def lsgan_discriminator_loss(real_scores: Sequence[Tensor], fake_scores: Sequence[Tensor]) -> Tensor:
    """pix2pixHD's discriminator loss: ``0.5 * (LSGAN(real, 1) + LSGAN(fake, 0))``."""
    return 0.5 * (lsgan_loss(real_scores, 1.0) + lsgan_loss(fake_scores, 0.0))


def lsgan_generator_loss(fake_scores: Sequence[Tensor]) -> Tensor:
    """Generator's LSGAN loss: ``LSGAN(fake, 1)`` summed over scales."""
    return lsgan_loss(fake_scores, 1.0)


__all__ = [
    "MultiScaleDiscriminator",
    "PatchDiscriminator",
    "lsgan_discriminator_loss",
    "lsgan_generator_loss",
    "lsgan_loss",
]
