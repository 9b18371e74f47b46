"""Shared helpers of the IFT experiments: shared-data paths, images, the model, Markdown, SVG plots."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[2]
REPORTS = REPO / "reports" / "ift"
CHECKPOINT = REPO / "outputs" / "ift_cpu" / "checkpoints" / "last.ckpt"

#: Content photo and style pairs used by the claims (shared data, images/content and images/style).
MULTI_STYLE_CASES: tuple[tuple[str, str, str], ...] = (
    ("newyork.jpg", "starry_night_crop.jpg", "candy.jpg"),
    ("cornell.jpg", "la_muse.jpg", "sketch.png"),
    ("skimage_chelsea.png", "mosaic.jpg", "composition_vii.jpg"),
    ("flowers.jpg", "the_resevoir_at_poitiers.jpg", "feathers.jpg"),
)


def shared_root(value: str | None = None) -> Path:
    """The shared data folder (argument or ``$STYLELAB_SHARED_DATA``); sets ``$STYLELAB_WEIGHTS``.

    Raises:
        SystemExit: Neither is set or the folder does not exist.
    """
    value = value or os.environ.get("STYLELAB_SHARED_DATA")
    if not value or not Path(value).is_dir():
        raise SystemExit("set STYLELAB_SHARED_DATA (or --shared) to the shared data folder")
    root = Path(value)
    os.environ.setdefault("STYLELAB_WEIGHTS", str(root / "weights"))
    return root


def load(path: Path, size: tuple[int, int] | int) -> torch.Tensor:
    """``(1, 3, H, W)`` RGB [0, 1] resized (antialiased bilinear) to ``size``."""
    from stylelab.data import load_image

    size = (size, size) if isinstance(size, int) else size
    image = load_image(path)[None]
    return F.interpolate(image, size=size, mode="bilinear", antialias=True, align_corners=False)


def cpu_name() -> str:
    """This machine's CPU model and the threads torch uses."""
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{name}, {os.cpu_count()} logical CPUs, torch threads {torch.get_num_threads()}"


def load_model(shared: Path, checkpoint: Path | None = CHECKPOINT) -> tuple[torch.nn.Module, str]:
    """The CPU-trained IFT checkpoint if present, else an untrained decoder calibrated on the shared photos.

    Returns:
        ``(method, description)``.
    """
    from stylelab.methods import load_method
    from stylelab.methods.ift import IFT

    if checkpoint is not None and checkpoint.is_file():
        model = load_method(checkpoint)
        steps = torch.load(checkpoint, map_location="cpu", weights_only=True).get("global_step", "?")
        return model.eval(), f"decoder trained {steps} steps on CPU (configs/experiments/ift/cpu_small.yaml)"
    model = IFT().eval()
    calibrate(model.net, shared)
    return model, "UNTRAINED decoder (no checkpoint): decoded images are not meaningful"


def calibrate(net: torch.nn.Module, shared: Path, size: int = 128) -> None:
    """Fit an ``IFTNet``'s channel scales on the 21 shared content photos (as training does on its images)."""
    photos = sorted((shared / "images" / "content").iterdir())
    with torch.no_grad():
        net.calibrate(load(p, size) for p in photos)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def svg_plot(
    series: dict[str, Sequence[tuple[float, float]]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    logx: bool = False,
    width: int = 560,
    height: int = 360,
) -> str:
    """A small line plot as SVG text (no plotting library is installed)."""
    import math

    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
    points = [p for s in series.values() for p in s]
    fx = (lambda v: math.log10(v)) if logx else (lambda v: v)
    xs, ys = [fx(p[0]) for p in points], [p[1] for p in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)
    left, right, top, bottom = 60, 20, 30, 45

    def px(v: float) -> float:
        return left + (fx(v) - x0) / (x1 - x0) * (width - left - right)

    def py(v: float) -> float:
        return height - bottom - (v - y0) / (y1 - y0) * (height - top - bottom)

    axis_y, mid_y = height - bottom, height / 2
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        'font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{width / 2}" y="16" text-anchor="middle" font-size="13">{title}</text>',
        f'<line x1="{left}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}" stroke="black"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="black"/>',
        f'<text x="{width / 2}" y="{height - 8}" text-anchor="middle">{xlabel}</text>',
        f'<text x="14" y="{mid_y}" text-anchor="middle" transform="rotate(-90 14 {mid_y})">{ylabel}</text>',
        f'<text x="{left - 4}" y="{py(y0)}" text-anchor="end">{y0:.3g}</text>',
        f'<text x="{left - 4}" y="{py(y1) + 4}" text-anchor="end">{y1:.3g}</text>',
    ]
    for x in sorted({p[0] for p in points}):
        out.append(f'<text x="{px(x)}" y="{height - bottom + 14}" text-anchor="middle">{x:g}</text>')
    for i, (name, pts) in enumerate(series.items()):
        colour = colours[i % len(colours)]
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
        out += [f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>' for x, y in pts]
        out.append(f'<text x="{width - right - 150}" y="{top + 14 * (i + 1)}" fill="{colour}">{name}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
