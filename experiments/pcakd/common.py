"""Shared pieces of the PCA-KD experiments: paths, the DPST pairs, training crops, reconstruction PSNR.

The shared-data folder, resizing, report headers and CSV files come from :mod:`stylelab.reproduce`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from stylelab.data import load_image, load_mask
from stylelab.methods.pcakd import PCAKD
from stylelab.methods.pcakd.model import pad_to_multiple
from stylelab.reproduce.images import shared_images

REPO = Path(__file__).resolve().parents[2]
REPORTS = REPO / "reports" / "pcakd"
#: Where ``configs/experiments/pcakd/teacher_decoders.yaml`` leaves the teacher pipeline.
TEACHER_CHECKPOINT = REPO / "outputs" / "pcakd_teacher" / "checkpoints" / "last.ckpt"
#: The scikit-image photos added to the staged content photos for training and eigenbases.
SKIMAGE = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle")


def pairs_root(shared: str | os.PathLike[str] | None = None) -> Path:
    """``<shared data>/images/photoreal_pairs`` (the 40 Deep Photo Style Transfer pairs).

    Raises:
        SystemExit: No shared data folder (see :func:`stylelab.reproduce.images.shared_root`).
    """
    return shared_images(shared) / "photoreal_pairs"


def dpst_contents(root: Path, count: int | None = None) -> list[Path]:
    """The first ``count`` (default all) DPST content photos ``content/dpst_*.jpg``, sorted."""
    return sorted((root / "content").glob("dpst_*.jpg"))[:count]


def load_pair_image(root: Path, kind: str, stem: str) -> Tensor:
    """``(1, 3, H, W)`` photo ``<root>/<kind>/<stem>.jpg`` of a pair (``kind``: content or style)."""
    return load_image(root / kind / f"{stem}.jpg")[None]


def load_pair_masks(root: Path, stem: str) -> tuple[Tensor, Tensor]:
    """The pair's content and style segmentation label maps, ``(1, H, W)`` each, at their own sizes."""
    return load_mask(root / "content_seg" / f"{stem}.png")[None], load_mask(
        root / "style_seg" / f"{stem}.png"
    )[None]


def stretch(image: Tensor, height: int, width: int) -> Tensor:
    """``(1, 3, height, width)``: bilinear resize without antialiasing or kept aspect, clamped to [0, 1]."""
    return F.interpolate(image, size=(height, width), mode="bilinear", align_corners=False).clamp(0, 1)


def random_crops(
    photos: list[Tensor], count: int, size: int, generator: torch.Generator, flip: bool = False
) -> Tensor:
    """``(count, 3, size, size)`` random crops of random photos (random horizontal flips if ``flip``).

    Per crop the generator draws the photo, the top, the left and (with ``flip``) the flip, in that order.
    """
    out = []
    for _ in range(count):
        photo = photos[int(torch.randint(len(photos), (1,), generator=generator))]
        top = int(torch.randint(photo.shape[-2] - size + 1, (1,), generator=generator))
        left = int(torch.randint(photo.shape[-1] - size + 1, (1,), generator=generator))
        crop = photo[..., top : top + size, left : left + size]
        if flip and bool(torch.randint(2, (1,), generator=generator)):
            crop = crop.flip(-1)
        out.append(crop)
    return torch.cat(out)


@torch.no_grad()
def reconstruct(model: PCAKD, image: Tensor, multiple: int | None = None) -> Tensor:
    """``dec(enc(x))`` with the HFR skips: padded to ``multiple`` (default the model's), cropped, clamped.

    Args:
        model: A PCA-KD method.
        image: ``(1, 3, H, W)`` in [0, 1].
        multiple: Padding multiple of the input.

    Returns:
        ``(1, 3, H, W)`` in [0, 1].
    """
    padded = pad_to_multiple(image, multiple or model.net.multiple_of)
    return model.net.autoencoder.reconstruct(padded)[..., : image.shape[-2], : image.shape[-1]].clamp(0, 1)


def psnr_of_mse(mse: float) -> float:
    """PSNR in dB of a mean squared error of [0, 1] images (floored at 1e-12)."""
    return -10.0 * math.log10(max(mse, 1e-12))


def psnr(a: Tensor, b: Tensor) -> float:
    """PSNR in dB of two images in [0, 1]."""
    return psnr_of_mse(float(((a - b) ** 2).mean()))
