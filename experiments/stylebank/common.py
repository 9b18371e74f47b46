"""Helpers shared by the StyleBank experiment scripts: real images, short CPU training runs, reports.

Every script reads the shared photos and artworks through ``$STYLELAB_SHARED_DATA`` (the loss VGG-16
through ``$STYLELAB_WEIGHTS``), trains with the Lightning module exactly as ``stylelab fit`` would, and
writes ``reports/stylebank/<table>.md``. Runs are cached in ``outputs/stylebank_experiments/``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch.nn.functional as F
from torch import Tensor

from stylelab.bench import device_description
from stylelab.data import FileListSource, StyleTransferDataModule, load_image
from stylelab.methods import load_method
from stylelab.methods.stylebank import StyleBank

REPO = Path(__file__).resolve().parents[2]
REPORTS = REPO / "reports" / "stylebank"
RUNS = REPO / "outputs" / "stylebank_experiments"

#: The fixed style set of the base model (4 artworks of the shared data) and the style added later.
BASE_STYLES = ("starry_night_crop.jpg", "candy.jpg", "mosaic.jpg", "la_muse.jpg")
NEW_STYLE = "composition_vii.jpg"
#: Content photos never used for training (reconstruction / stylisation examples).
EVAL_CONTENTS = ("newyork.jpg", "flowers.jpg", "coral_parrot.jpg", "skimage_chelsea.png")
#: Side of the square held-out evaluation images (pixels).
EVAL_SIZE = 256


def images_root() -> Path:
    """``$STYLELAB_SHARED_DATA/images`` (exits with a message when absent)."""
    root = os.environ.get("STYLELAB_SHARED_DATA")
    if not root or not (Path(root) / "images").is_dir():
        sys.exit("set STYLELAB_SHARED_DATA to the shared data folder (with images/content and images/style)")
    return Path(root) / "images"


def content_files(train: bool) -> list[str]:
    """Training content photos (all but :data:`EVAL_CONTENTS`) or the evaluation ones."""
    folder = images_root() / "content"
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".png"})
    return [str(p) for p in files if (p.name in EVAL_CONTENTS) != train]


def style_files(names: tuple[str, ...] | list[str]) -> list[str]:
    """Paths of named artworks of the shared style folder."""
    return [str(images_root() / "style" / name) for name in names]


def datamodule(styles: list[str], crop: int, batch: int, seed: int = 0) -> StyleTransferDataModule:
    """Training content photos (random ``crop`` squares) and ``styles`` as the StyleBank style set."""
    root = str(images_root())
    return StyleTransferDataModule(
        content=FileListSource(content_files(train=True), root=root),
        style=FileListSource(styles, root=root),
        load_size=round(crop * 1.2),
        crop_size=crop,
        batch_size=batch,
        samples_per_epoch=100_000,
        seed=seed,
    )


def load_square(path: str, size: int) -> Tensor:
    """``(1, 3, size, size)``: shorter side to ``size``, centre crop."""
    image = load_image(path)[None]
    h, w = image.shape[-2:]
    scale = size / min(h, w)
    image = F.interpolate(
        image,
        size=(max(size, round(h * scale)), max(size, round(w * scale))),
        mode="bilinear",
        antialias=True,
        align_corners=False,
    ).clamp(0, 1)
    h, w = image.shape[-2:]
    top, left = (h - size) // 2, (w - size) // 2
    return image[..., top : top + size, left : left + size].contiguous()


class Recorder(L.Callback):
    """Per-iteration loss terms and wall time of a training run."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self._start = time.perf_counter()

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        """Store the step's branch and loss terms."""
        assert isinstance(pl_module, StyleBank)
        self.rows.append(
            {
                "step": len(self.rows) + 1,
                "branch": pl_module.recent_branches[-1],
                "seconds": time.perf_counter() - self._start,
                **pl_module.last_terms,
            }
        )


@dataclass
class Run:
    """A finished (or cached) training run."""

    model: StyleBank
    rows: list[dict[str, Any]]
    seconds: float
    cached: bool


def run_folder(name: str, steps: int) -> Path:
    """Cache folder of a run: ``outputs/stylebank_experiments/<name>_s<steps>`` (budgets never mix)."""
    return RUNS / f"{name}_s{steps}"


def train(name: str, model: StyleBank, dm: StyleTransferDataModule, steps: int, fresh: bool = False) -> Run:
    """Fit ``model`` for ``steps`` iterations, or reload it from :func:`run_folder`.

    The checkpoint and a CSV of the per-iteration losses are cached; ``fresh`` retrains.
    """
    folder = run_folder(name, steps)
    checkpoint, log = folder / "last.ckpt", folder / "losses.csv"
    if checkpoint.is_file() and log.is_file() and not fresh:
        rows = read_rows(log)
        if len(rows) == steps:
            loaded = load_method(checkpoint)
            assert isinstance(loaded, StyleBank)
            return Run(loaded, rows, float(rows[-1]["seconds"]), True)
    recorder = Recorder()
    trainer = L.Trainer(
        max_steps=steps,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        callbacks=[recorder],
    )
    start = time.perf_counter()
    trainer.fit(model, datamodule=dm)
    seconds = time.perf_counter() - start
    folder.mkdir(parents=True, exist_ok=True)
    trainer.save_checkpoint(checkpoint)
    write_rows(log, recorder.rows)
    return Run(model.eval(), recorder.rows, seconds, False)


def write_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write dict rows as CSV (union of keys, empty cells where a row lacks one)."""
    from stylelab.utils.io import atomic_save_text

    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    lines = [",".join(keys)] + [",".join(str(row.get(k, "")) for k in keys) for row in rows]
    atomic_save_text(path, "\n".join(lines) + "\n")


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Read :func:`write_rows` output (numbers as floats, empty cells dropped)."""
    lines = path.read_text().strip().splitlines()
    keys = lines[0].split(",")
    rows = []
    for line in lines[1:]:
        row: dict[str, Any] = {}
        for key, value in zip(keys, line.split(","), strict=True):
            if value == "":
                continue
            try:
                row[key] = float(value)
            except ValueError:
                row[key] = value
        rows.append(row)
    return rows


def mean_last(rows: list[dict[str, Any]], key: str, count: int, branch: str = "stylize") -> float:
    """Mean of ``key`` over the last ``count`` rows of ``branch``."""
    values = [r[key] for r in rows if r.get("branch") == branch and key in r][-count:]
    return sum(values) / max(1, len(values))


def machine_line() -> str:
    """Device, CPU threads and torch version, for report headers."""
    return (
        f"{device_description('cpu')}, Python {platform.python_version()} (2 cores shared with other jobs: "
        "timings are indicative)"
    )


def parser(description: str) -> argparse.ArgumentParser:
    """Common options: budget (steps, crop, batch) and ``--fresh``."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--steps", type=int, default=120, help="training iterations per run")
    p.add_argument("--crop", type=int, default=96, help="training crop side (paper: 512)")
    p.add_argument("--batch", type=int, default=2, help="batch size (paper: 4)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--fresh", action="store_true", help="retrain instead of reusing cached runs")
    return p


def base_model(kernel_size: int = 3, autoencoder_branch: bool = True) -> StyleBank:
    """The experiments' StyleBank: paper architecture (C_max 128), VGG-16 loss, ports' learning rate."""
    return StyleBank(
        c_max=128,
        kernel_size=kernel_size,
        loss_network="auto",
        schedule="ports",  # Adam 1e-3: the paper's 0.01 is tuned for 300k iterations, not ~100
        autoencoder_branch=autoencoder_branch,
        seed=0,
    )


def budget_line(args: argparse.Namespace, steps: int | None = None) -> str:
    """One line naming the training budget."""
    return (
        f"{steps or args.steps} iterations, batch {args.batch}, {args.crop}x{args.crop} random crops of "
        f"{len(content_files(True))} shared photos (paper: 300k iterations, batch 4, 512x512 crops of 1,000 "
        "COCO images), Adam 1e-3 (the ports' rate; paper 0.01)"
    )


def svg_curves(
    series: dict[str, list[tuple[float, float]]], title: str, ylabel: str, log_y: bool = True
) -> str:
    """A minimal SVG line chart (no plotting library needed): one polyline per series."""
    import math

    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
    width, height, pad = 640, 360, 56
    points = [p for values in series.values() for p in values if not log_y or p[1] > 0]
    xs = [p[0] for p in points]
    ys = [math.log10(p[1]) if log_y else p[1] for p in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    y1 = y1 if y1 > y0 else y0 + 1

    def sx(x: float) -> float:
        return pad + (x - x0) / max(1e-9, x1 - x0) * (width - 2 * pad)

    def sy(y: float) -> float:
        return height - pad - ((math.log10(y) if log_y else y) - y0) / (y1 - y0) * (height - 2 * pad)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        'font-size="12">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="black"/>',
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="black"/>',
        f'<text x="{width / 2}" y="{height - 16}" text-anchor="middle">iteration</text>',
        f'<text x="14" y="{height / 2}" transform="rotate(-90 14 {height / 2})" text-anchor="middle">'
        f"{ylabel}{' (log scale)' if log_y else ''}</text>",
        f'<text x="{pad}" y="{height - pad + 16}" text-anchor="middle">{x0:g}</text>',
        f'<text x="{width - pad}" y="{height - pad + 16}" text-anchor="middle">{x1:g}</text>',
        f'<text x="{pad - 4}" y="{height - pad}" text-anchor="end">{10**y0 if log_y else y0:.3g}</text>',
        f'<text x="{pad - 4}" y="{pad + 4}" text-anchor="end">{10**y1 if log_y else y1:.3g}</text>',
    ]
    for i, (name, values) in enumerate(series.items()):
        colour = colours[i % len(colours)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in values if not log_y or y > 0)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{path}"/>')
        parts.append(f'<text x="{width - pad - 150}" y="{pad + 16 * i}" fill="{colour}">{name}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
