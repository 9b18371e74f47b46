"""Image grids of content | style | output rows for logs and reports."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def letterbox(image: Tensor, size: int, fill: float = 1.0) -> Tensor:
    """Fit ``(3, H, W)`` inside a ``size × size`` square (aspect kept), padding with ``fill``."""
    h, w = image.shape[-2:]
    scale = size / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    resized = F.interpolate(
        image[None], size=(new_h, new_w), mode="bilinear", antialias=True, align_corners=False
    )
    canvas = torch.full((3, size, size), fill, dtype=image.dtype)
    top, left = (size - new_h) // 2, (size - new_w) // 2
    canvas[:, top : top + new_h, left : left + new_w] = resized[0].clamp(0, 1)
    return canvas


def pair_grid(rows: list[tuple[Tensor, Tensor, Tensor]], cell: int = 192, gap: int = 4) -> Tensor:
    """Stack rows of ``(content, style, output)`` images, each ``(3, H, W)`` in [0, 1].

    Returns:
        ``(3, n·(cell+gap)-gap, 3·(cell+gap)-gap)`` image in [0, 1] on a white background.
    """
    if not rows:
        raise ValueError("pair_grid needs at least one row")
    height = len(rows) * (cell + gap) - gap
    width = 3 * (cell + gap) - gap
    grid = torch.ones(3, height, width)
    for r, images in enumerate(rows):
        for c, image in enumerate(images):
            top, left = r * (cell + gap), c * (cell + gap)
            grid[:, top : top + cell, left : left + cell] = letterbox(image.detach().float().cpu(), cell)
    return grid
