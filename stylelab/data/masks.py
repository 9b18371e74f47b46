"""Colour-coded segmentation masks (Deep Photo Style Transfer / PST style) as integer label maps.

A mask file paints each semantic region in one colour ("sky" blue, "building" red ...). The content
and the style mask of a pair use the same colours for matching regions, so the label of a pixel must
depend on its colour only. :func:`colours_to_labels` maps every pixel to the index of the nearest
colour of a fixed palette; antialiased or JPEG-noisy edges snap to the closest palette colour.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from stylelab.data.errors import UnreadableImageError
from stylelab.data.image_io import open_image

DEFAULT_MASK_PALETTE: tuple[tuple[int, int, int], ...] = (
    (0, 0, 0),  # 0 black
    (255, 255, 255),  # 1 white
    (255, 0, 0),  # 2 red
    (0, 255, 0),  # 3 green
    (0, 0, 255),  # 4 blue
    (255, 255, 0),  # 5 yellow
    (0, 255, 255),  # 6 cyan ("light blue")
    (255, 0, 255),  # 7 magenta ("purple")
    (128, 128, 128),  # 8 grey
)
"""The nine colours of the Deep Photo Style Transfer segmentation masks; label id = index."""


def colours_to_labels(rgb: np.ndarray, palette: Sequence[Sequence[int]] = DEFAULT_MASK_PALETTE) -> Tensor:
    """Map each pixel colour to the index of the nearest palette colour.

    Deterministic: the label depends on the colour only (ties go to the lower index), so content and
    style masks painted with the same colours get the same labels.

    Args:
        rgb: ``(H, W, 3)`` uint8 array.
        palette: ``K`` RGB colours (0..255); label ``k`` means "closest to ``palette[k]``".

    Returns:
        ``(H, W)`` int64 tensor of labels in ``[0, K)``.

    Raises:
        ValueError: ``rgb`` is not ``(H, W, 3)`` or the palette is empty.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) colour array, got shape {rgb.shape}")
    table = np.asarray(palette, dtype=np.int64).reshape(-1, 3)
    if table.shape[0] == 0:
        raise ValueError("palette must hold at least one colour")
    flat = rgb.reshape(-1, 3).astype(np.int64)
    codes, inverse = np.unique((flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2], return_inverse=True)
    colours = np.stack([codes >> 16, (codes >> 8) & 255, codes & 255], axis=1)  # (U, 3)
    distance = ((colours[:, None, :] - table[None, :, :]) ** 2).sum(axis=2)  # (U, K)
    nearest = distance.argmin(axis=1)  # first minimum: ties go to the lower index
    labels = nearest[inverse.reshape(-1)].reshape(rgb.shape[:2])
    return torch.from_numpy(labels.astype(np.int64))


def load_mask(
    path: str | os.PathLike[str],
    *,
    palette: Sequence[Sequence[int]] = DEFAULT_MASK_PALETTE,
    max_pixels: int | None = None,
) -> Tensor:
    """Read a colour-coded segmentation mask as a label map.

    Works for RGB, RGBA (alpha ignored), palette and grayscale (``L``, ``1``, 16-bit) masks: a gray
    value ``v`` is the colour ``(v, v, v)``, so a black/white ``L`` mask gives the same labels as the
    same mask saved as RGB. EXIF orientation is applied, as for photos.

    Args:
        path: Mask image file.
        palette: Colour table; see :func:`colours_to_labels`.
        max_pixels: Decompression-bomb guard (``None``: the library default).

    Returns:
        ``(H, W)`` int64 tensor of labels in ``[0, len(palette))``.

    Raises:
        UnreadableImageError: The file cannot be decoded.
        ValueError: Empty palette.
    """
    if len(palette) == 0:
        raise ValueError("palette must hold at least one colour")
    image = open_image(path, max_pixels=max_pixels)
    try:
        if image.mode.startswith("I;16") or image.mode == "I":
            gray = np.clip(np.asarray(image, dtype=np.float64) / 257.0, 0, 255).round().astype(np.uint8)
            rgb = np.repeat(gray[..., None], 3, axis=2)
        elif image.mode == "F":
            gray = np.clip(np.nan_to_num(np.asarray(image, dtype=np.float64)) * 255.0, 0, 255)
            rgb = np.repeat(gray.round().astype(np.uint8)[..., None], 3, axis=2)
        else:
            rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
        return colours_to_labels(rgb, palette)
    except Exception as error:
        raise UnreadableImageError(
            os.fspath(path), f"cannot read mask of mode {image.mode}: {error}"
        ) from error
