"""Figures of a benchmark: quality scatter, latency vs resolution, image grid.

* ``scatter.png``: content preservation vs style loss, one point per method (as PCA-KD's Fig. 6);
* ``latency.png``: median latency vs resolution, one line per method;
* ``grid.jpg``: rows are pairs; columns are content, style and each method's output.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from stylelab.utils.io import atomic_save_bytes


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save_figure(figure: Any, path: Path) -> None:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
    atomic_save_bytes(path, buffer.getvalue())


def scatter_plot(rows: list[dict[str, Any]], path: Path) -> bool:
    """SSIM to content (y) vs Gram style ratio (x), one point per method, one panel per set.

    Returns:
        ``False`` (nothing written) when no row has both values.
    """
    quality = [r for r in rows if r["kind"] == "quality" and r.get("ssim") is not None]
    quality = [r for r in quality if r.get("gram_ratio") is not None]
    if not quality:
        return False
    plt = _pyplot()
    sets = list(dict.fromkeys(r["set"] for r in quality))
    methods = list(dict.fromkeys(r["method"] for r in quality))
    palette = plt.get_cmap("tab10")
    figure, axes = plt.subplots(1, len(sets), figsize=(5 * len(sets), 4.2), squeeze=False)
    for axis, set_name in zip(axes[0], sets, strict=True):
        for row in (r for r in quality if r["set"] == set_name):  # one colour per method in every panel
            colour = palette(methods.index(row["method"]) % palette.N)
            axis.scatter(row["gram_ratio"], row["ssim"], s=40, color=colour)
            axis.annotate(row["method"], (row["gram_ratio"], row["ssim"]), fontsize=7, xytext=(4, 3),
                          textcoords="offset points")  # fmt: skip
        axis.set_title(f"{set_name}: content preservation vs style loss", fontsize=9)
        axis.set_xlabel("Gram style loss / content's own (lower: more style)")
        axis.set_ylabel("SSIM to content (higher: more content)")
        axis.grid(alpha=0.3)
    _save_figure(figure, path)
    plt.close(figure)
    return True


def latency_plot(rows: list[dict[str, Any]], path: Path) -> bool:
    """Median latency (log scale) vs resolution, one line per method; ``False`` when no latency row is ok."""
    timed = [r for r in rows if r["kind"] == "latency" and r.get("latency_s") is not None]
    if not timed:
        return False
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6, 4.2))
    for method in dict.fromkeys(r["method"] for r in timed):
        points = sorted(
            (int(r["resolution"].split("x")[0]), r["latency_s"] * 1000)
            for r in timed
            if r["method"] == method
        )
        axis.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=method)
    axis.set_yscale("log")
    axis.set_xlabel("content side (px), batch 1")
    axis.set_ylabel("median latency (ms)")
    axis.grid(alpha=0.3, which="both")
    axis.legend(fontsize=7)
    _save_figure(figure, path)
    plt.close(figure)
    return True


def _tile(image: Tensor | None, height: int, width: int) -> Tensor:
    """``(3, height, width)``: the image letterboxed on white, or a grey tile when ``None``."""
    canvas = torch.ones(3, height, width)
    if image is None:
        return canvas * 0.8
    scale = min(height / image.shape[-2], width / image.shape[-1])
    size = (max(1, round(image.shape[-2] * scale)), max(1, round(image.shape[-1] * scale)))
    resized = F.interpolate(image[None], size=size, mode="bilinear", antialias=True, align_corners=False)[0]
    top, left = (height - size[0]) // 2, (width - size[1]) // 2
    canvas[:, top : top + size[0], left : left + size[1]] = resized.clamp(0, 1)
    return canvas


def image_grid(
    rows: list[list[Tensor | None]], header: list[str], path: Path, tile: int = 160, label: int = 18
) -> None:
    """Write a JPEG grid: ``rows[i][j]`` is a ``(3, H, W)`` image or ``None`` (grey: a marked cell).

    Args:
        rows: One list per pair: content, style, then one output per method.
        header: Column titles (drawn above the first row).
        path: Output ``.jpg``.
        tile: Tile side in pixels.
        label: Height of the title band.
    """
    from PIL import Image, ImageDraw

    columns = len(header)
    canvas = torch.ones(3, label + tile * len(rows), tile * columns)
    for i, images in enumerate(rows):
        for j, image in enumerate(images):
            canvas[:, label + i * tile : label + (i + 1) * tile, j * tile : (j + 1) * tile] = _tile(
                image, tile, tile
            )
    array = (canvas.permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
    picture = Image.fromarray(array)
    draw = ImageDraw.Draw(picture)
    for j, title in enumerate(header):
        draw.text((j * tile + 3, 3), title[: tile // 6], fill=(0, 0, 0))
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=90)
    atomic_save_bytes(path, buffer.getvalue())
