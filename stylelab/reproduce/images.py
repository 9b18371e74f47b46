"""The shared photos and paintings of the experiments: where they are and how a script loads them.

The folder comes from ``$STYLELAB_SHARED_DATA`` (weights default to its ``weights/`` folder); the loaders
reuse :mod:`stylelab.data` so every experiment reads and resizes images the way the library does.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch.nn.functional as F
from torch import Tensor

from stylelab.data import load_image
from stylelab.data.transforms import center_crop, resize_shorter, round_down_to_multiple

SHARED_ENV = "STYLELAB_SHARED_DATA"


def shared_root(value: str | os.PathLike[str] | None = None) -> Path:
    """The shared data folder (``value`` or ``$STYLELAB_SHARED_DATA``); sets ``$STYLELAB_WEIGHTS`` if unset.

    Raises:
        SystemExit: Neither names an existing folder with ``images/`` (the message says what to set).
    """
    value = value or os.environ.get(SHARED_ENV)
    if not value or not (Path(value) / "images").is_dir():
        raise SystemExit(f"set {SHARED_ENV} (or --shared) to the shared data folder (images/, weights/)")
    root = Path(value)
    os.environ.setdefault("STYLELAB_WEIGHTS", str(root / "weights"))
    return root


def shared_images(value: str | os.PathLike[str] | None = None) -> Path:
    """``<shared data>/images`` (see :func:`shared_root`)."""
    return shared_root(value) / "images"


def optional_shared_images() -> Path | None:
    """``$STYLELAB_SHARED_DATA/images`` when set and present, else ``None`` (for scripts with a fallback)."""
    value = os.environ.get(SHARED_ENV)
    if value and (Path(value) / "images").is_dir():
        return Path(value) / "images"
    return None


def load_resized(path: str | os.PathLike[str], size: int | tuple[int, int]) -> Tensor:
    """An image resized (antialiased bilinear, aspect not kept) to ``size``.

    Returns:
        ``(1, 3, H, W)`` RGB in ``[0, 1]`` with ``(H, W) = size``.
    """
    size = (size, size) if isinstance(size, int) else size
    image = load_image(path)[None]
    return F.interpolate(image, size=size, mode="bilinear", antialias=True, align_corners=False)


def load_square(path: str | os.PathLike[str], size: int) -> Tensor:
    """An image with its shorter side resized to ``size`` (antialiased), centre-cropped to a square.

    Returns:
        ``(1, 3, size, size)`` RGB in ``[0, 1]``.
    """
    return square(load_image(path)[None], size)


def square(image: Tensor, size: int) -> Tensor:
    """Shorter side to ``size`` (antialiased bilinear, clamped), then the centre ``size x size`` square.

    Args:
        image: ``(1, 3, H, W)`` or ``(3, H, W)``.

    Returns:
        The same rank, ``(..., 3, size, size)``, contiguous.
    """
    if image.dim() == 4:
        return square(image[0], size)[None]
    return center_crop(resize_shorter(image, size), size).contiguous()


def longer_side_size(
    height: int, width: int, side: int, *, multiple: int = 1, upscale: bool = True
) -> tuple[int, int]:
    """The size that brings the longer side to ``side``, both sides rounded down to ``multiple``.

    Args:
        height: Input height.
        width: Input width.
        side: Target longer side (before the rounding).
        multiple: Both sides become multiples of it (at least ``multiple``).
        upscale: ``False``: an image already within ``side`` keeps its scale (only the rounding applies).

    Returns:
        ``(new_height, new_width)``.
    """
    scale = side / max(height, width)
    if not upscale:
        scale = min(1.0, scale)
    return (
        round_down_to_multiple(round(height * scale), multiple),
        round_down_to_multiple(round(width * scale), multiple),
    )


def fit_longer_side(
    image: Tensor, side: int, *, multiple: int = 1, mode: str = "bilinear", upscale: bool = True
) -> Tensor:
    """Resize (antialiased, aspect kept up to the rounding) to :func:`longer_side_size`, clamped to [0, 1].

    Args:
        image: ``(1, 3, H, W)`` RGB in ``[0, 1]``.
        side: Target longer side.
        multiple: See :func:`longer_side_size`.
        mode: ``"bilinear"`` or ``"bicubic"``.
        upscale: See :func:`longer_side_size`.

    Returns:
        ``(1, 3, h, w)`` in ``[0, 1]``.
    """
    size = longer_side_size(image.shape[-2], image.shape[-1], side, multiple=multiple, upscale=upscale)
    return F.interpolate(image, size=size, mode=mode, antialias=True, align_corners=False).clamp(0, 1)
