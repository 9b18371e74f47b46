"""Helpers shared by the StyleBank experiment scripts: real images, short CPU training runs, reports.

Every script reads the shared photos and artworks through ``$STYLELAB_SHARED_DATA`` (the loss VGG-16
through ``$STYLELAB_WEIGHTS``), trains with the Lightning module exactly as ``stylelab fit`` would, and
writes ``reports/stylebank/<table>.md``. Runs are cached in ``outputs/stylebank_experiments/``. Report
headers, image loading, CSV logs and plots come from :mod:`stylelab.reproduce`.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L

from stylelab.data import FileListSource, StyleTransferDataModule
from stylelab.methods import load_method
from stylelab.methods.stylebank import StyleBank
from stylelab.reproduce.cache import read_csv_rows, write_csv_rows
from stylelab.reproduce.images import shared_images

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


def content_files(train: bool) -> list[str]:
    """Training content photos (all but :data:`EVAL_CONTENTS`) or the evaluation ones."""
    folder = shared_images() / "content"
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".png"})
    return [str(p) for p in files if (p.name in EVAL_CONTENTS) != train]


def style_files(names: tuple[str, ...] | list[str]) -> list[str]:
    """Paths of named artworks of the shared style folder."""
    return [str(shared_images() / "style" / name) for name in names]


def datamodule(styles: list[str], crop: int, batch: int, seed: int = 0) -> StyleTransferDataModule:
    """Training content photos (random ``crop`` squares) and ``styles`` as the StyleBank style set."""
    root = str(shared_images())
    return StyleTransferDataModule(
        content=FileListSource(content_files(train=True), root=root),
        style=FileListSource(styles, root=root),
        load_size=round(crop * 1.2),
        crop_size=crop,
        batch_size=batch,
        samples_per_epoch=100_000,
        seed=seed,
    )


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
        rows = read_csv_rows(log)
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
    write_csv_rows(log, recorder.rows)
    return Run(model.eval(), recorder.rows, seconds, False)


def mean_last(rows: list[dict[str, Any]], key: str, count: int, branch: str = "stylize") -> float:
    """Mean of ``key`` over the last ``count`` rows of ``branch``."""
    values = [r[key] for r in rows if r.get("branch") == branch and key in r][-count:]
    return sum(values) / max(1, len(values))


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
