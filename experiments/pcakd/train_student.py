"""Train the VGG student that ships with the package and write its training record.

Runs ``stylelab fit --config configs/pcakd.yaml --config configs/experiments/pcakd/student_vgg.yaml`` (one
fit: exact eigenbases, then blocks 1..4), then exports the autoencoder to
``stylelab/methods/pcakd/weights/pcakd_vgg.safetensors`` with ``pcakd_vgg.json`` beside it: config, data,
steps per stage, wall time, device, final losses and held-out reconstruction quality.

Usage (from the repository root, shared data beside the checkout)::

    STYLELAB_WEIGHTS=../shared/data/weights STYLELAB_SHARED_DATA=../shared/data \
        python experiments/pcakd/train_student.py [--max-steps N] [--export-only CKPT]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, pairs_root, psnr_of_mse, reconstruct  # noqa: E402

from stylelab.bench import device_description  # noqa: E402
from stylelab.cli import run_lightning_cli  # noqa: E402
from stylelab.data import ImageFolder, load_image  # noqa: E402
from stylelab.methods import load_method  # noqa: E402
from stylelab.methods.pcakd import PCAKD  # noqa: E402
from stylelab.methods.pcakd.pretrained import WEIGHTS_DIR, save_student  # noqa: E402
from stylelab.metrics import parameter_counts  # noqa: E402
from stylelab.reproduce.images import SHARED_ENV, fit_longer_side  # noqa: E402

CONFIGS = ["configs/pcakd.yaml", "configs/experiments/pcakd/student_vgg.yaml"]


def last_losses(log_dir: Path) -> dict[str, float]:
    """Last logged value of every training column of the CSV logger."""
    files = sorted(log_dir.glob("**/metrics.csv"), key=lambda p: p.stat().st_mtime)
    if not files:
        return {}
    values: dict[str, float] = {}
    with open(files[-1], newline="") as handle:
        for row in csv.DictReader(handle):
            for key, value in row.items():
                if value not in ("", None) and (key.startswith("train/") or key.startswith("val/")):
                    values[key] = float(value)
    return values


@torch.no_grad()
def reconstruction_quality(model: PCAKD, folder: Path, max_side: int = 512) -> dict[str, float]:
    """Mean MSE and PSNR of dec(enc(x)) over a folder of photos (longer side ``max_side``)."""
    errors = []
    for path in ImageFolder(folder).paths():
        image = fit_longer_side(load_image(path)[None], max_side, upscale=False)
        errors.append(float(((reconstruct(model, image, 16) - image) ** 2).mean()))
    mse = sum(errors) / len(errors)
    return {"images": len(errors), "mse": mse, "psnr_db": psnr_of_mse(mse)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--export-only", default=None, help="export this checkpoint instead of training")
    parser.add_argument("--log-dir", default="outputs/pcakd_student/logs", help="the run's CSV logs")
    parser.add_argument("--wall-time-s", type=float, default=None, help="training time of an exported run")
    parser.add_argument("--note", default=None, help="free text kept in the record (how the run went)")
    args = parser.parse_args()
    os.chdir(REPO)
    torch.set_num_threads(2)
    start = time.time()
    argv = [a for c in CONFIGS for a in ("--config", c)]
    if args.max_steps is not None:
        argv.append(f"--trainer.max_steps={args.max_steps}")
    if args.export_only is None:
        cli = run_lightning_cli(["fit", *argv])
        model: PCAKD = cli.model
        trainer = cli.trainer
        steps, ends = trainer.global_step, model.stage_ends()
        data = cli.datamodule
    else:
        model = load_method(args.export_only)  # type: ignore[assignment]
        steps = int(torch.load(args.export_only, map_location="cpu", weights_only=True)["global_step"])
        ends = model.stage_ends() if model.hparams.stage_steps else []
        data = run_lightning_cli(argv, run=False).datamodule  # the config's training data
    train_images = [*data.content_source.paths(), *data.style_source.paths()]
    model.eval()
    seconds = time.time() - start
    pairs = pairs_root(os.environ.get(SHARED_ENV) or REPO.parent / "shared" / "data")
    quality = reconstruction_quality(model, pairs / "content")
    counts = parameter_counts(model.net.autoencoder, auxiliary=("eigenbases",))
    record = {
        "method": "pcakd",
        "variant": model.variant(),
        "configs": CONFIGS,
        "overrides": argv[len(CONFIGS) * 2 :],
        "hyper_parameters": {k: v for k, v in dict(model.hparams).items() if not k.startswith("_")},
        "training_images": [os.path.relpath(p, REPO) if os.path.isabs(p) else p for p in train_images],
        "global_steps": steps,
        "stage_ends": ends,
        "wall_time_s": round(args.wall_time_s if args.wall_time_s is not None else seconds),
        "note": args.note,
        "device": device_description(torch.device("cpu")),
        "last_logged": last_losses(REPO / args.log_dir),
        "reconstruction_dpst_content_max512": quality,
        "parameters": {
            "without_eigenbases": counts.without_auxiliary,
            "with_eigenbases": counts.with_auxiliary,
        },
        "eigenbasis_orthonormality_error": model.net.autoencoder.eigenbases.orthonormality_errors(),
    }
    target = WEIGHTS_DIR / "pcakd_vgg.safetensors"
    save_student(model.net.autoencoder, target, model._architecture(), record)
    print(f"wrote {target} ({target.stat().st_size / 1e6:.2f} MB) and {target.with_suffix('.json')}")
    print(record["reconstruction_dpst_content_max512"], record["last_logged"])


if __name__ == "__main__":
    main()
