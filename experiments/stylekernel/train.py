"""Train SK (k = 1, 3, 5), its ablations and an AdaIN reference with one small CPU budget.

Every run uses ``configs/stylekernel.yaml`` (+ the ablation's ``configs/experiments/stylekernel/*.yaml``)
and ``experiments/stylekernel/cpu_budget.yaml`` (staged photos x artworks, 96 crops, batch 2, 66
optimizer steps = 44 generator + 22 discriminator updates). AdaIN gets ``configs/adain.yaml`` with the
same data and 44 updates. One intra-op thread: on the shared 2-core machine two threads were 2-3x slower
(OpenMP threads waiting for each other while descheduled).
Checkpoints: ``outputs/stylekernel_experiments/<run>/last.ckpt``; summary:
``reports/stylekernel/training.md``.

Run: ``STYLELAB_WEIGHTS=... STYLELAB_SHARED_DATA=... python experiments/stylekernel/train.py [run ...]``
(default: every run; a finished run is skipped unless ``--force``).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import torch

from stylelab.cli import run_lightning_cli
from stylelab.utils.io import atomic_save_text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, REPORTS, RUNS, machine_line, shared_images  # noqa: E402

BUDGET = Path(__file__).resolve().parent / "cpu_budget.yaml"
SK_MODEL_ARGS = ["--model.init_args.lr=2.0e-4", "--model.init_args.remd_samples=1024"]
#: run name -> (base config, ablation config or None, optimizer steps)
RUNS_TABLE: dict[str, tuple[str, str | None, int]] = {
    "k3": ("stylekernel", None, 66),
    "k1": ("stylekernel", "k1", 66),
    "k5": ("stylekernel", "k5", 66),
    "adain": ("adain", None, 44),
    "no_cgm": ("stylekernel", "no_cgm", 66),
    "sanet_cgm": ("stylekernel", "sanet_cgm", 66),
}


def arguments(name: str, images: Path) -> list[str]:
    base, ablation, steps = RUNS_TABLE[name]
    args = ["--config", str(REPO / "configs" / f"{base}.yaml")]
    if ablation is not None:
        args += ["--config", str(REPO / "configs" / "experiments" / "stylekernel" / f"{ablation}.yaml")]
    args += ["--config", str(BUDGET), f"--trainer.max_steps={steps}", "--trainer.accelerator=cpu"]
    args += [f"--trainer.default_root_dir={RUNS / name}"]
    args += [f"--trainer.logger.init_args.save_dir={RUNS / name}"]
    args += [f"--data.init_args.content.init_args.root={images / 'content'}"]
    args += [f"--data.init_args.style.init_args.root={images / 'style'}"]
    if base == "stylekernel":
        args += SK_MODEL_ARGS
    else:
        args += ["--model.init_args.lr=2.0e-4"]
    return args


def train(name: str, images: Path) -> dict:
    started = time.time()
    sys.argv = sys.argv[:1]  # LightningCLI must not see this script's own arguments
    cli = run_lightning_cli(["fit", *arguments(name, images)])
    seconds = time.time() - started
    target = RUNS / name / "last.ckpt"
    target.parent.mkdir(parents=True, exist_ok=True)
    cli.trainer.save_checkpoint(target)
    metrics = {k: float(v) for k, v in cli.trainer.callback_metrics.items() if v.numel() == 1}
    summary = {
        "run": name,
        "variant": cli.model.variant(),
        "optimizer_steps": int(cli.trainer.global_step),
        "generator_steps": int(getattr(cli.model, "generator_steps", cli.trainer.global_step)),
        "seconds": round(seconds, 1),
        "batch_size": cli.datamodule.batch_size,
        "crop": cli.datamodule.train_transform.crop_size,
        "last_logged": metrics,
    }
    atomic_save_text(RUNS / name / "summary.json", json.dumps(summary, indent=2))
    return summary


def write_report() -> None:
    rows = []
    for name in RUNS_TABLE:
        path = RUNS / name / "summary.json"
        if not path.is_file():
            continue
        s = json.loads(path.read_text())
        logged = s["last_logged"]
        loss = logged.get("train/loss")
        shown = "n/a" if loss is None else f"{loss:.3f}"
        rows.append(
            f"| {name} | {s['variant']} | {s['generator_steps']} | {s['optimizer_steps']} "
            f"| {s['batch_size']} | {s['crop']} | {s['seconds']:.0f} | {shown} |"
        )
    lines = [
        "# SK experiments: training budget",
        "",
        f"- machine: {machine_line()}",
        "- data: the staged photos (content, 21) and artworks (style, 26) split by `StyleTransferDataModule` "
        "(seed 0, val 5 %, test 25 %); training on the train split only; shorter side 112, random 96 crops.",
        "- recipe: the paper's losses and weights, Adam lr 2e-4 (paper 1e-4: doubled for the tiny budget), "
        "REMD on at most 1,024 positions, D once per two G steps.",
        "- paper budget: 160,000 iterations, batch 16, 256 crops, ~80k COCO x ~80k WikiArt images, V100. "
        "These runs are about 4 orders of magnitude smaller: every table built on them measures the code "
        "path and relative behaviour at initialisation-dominated quality, not the paper's trained model.",
        "",
        "| run | variant | G updates | optimizer steps | batch | crop | wall time (s) | last train loss |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
    ]
    atomic_save_text(REPORTS / "training.md", "\n".join(lines) + "\n")


def main() -> None:
    torch.set_num_threads(1)
    images = shared_images()
    if images is None or not os.environ.get("STYLELAB_WEIGHTS"):
        sys.exit("set STYLELAB_SHARED_DATA (staged images) and STYLELAB_WEIGHTS (VGG-16 weights)")
    force = "--force" in sys.argv
    names = [a for a in sys.argv[1:] if not a.startswith("--")] or list(RUNS_TABLE)
    for name in names:
        if (RUNS / name / "summary.json").is_file() and not force:
            print(f"{name}: done already (use --force to retrain)")
            continue
        print(f"training {name} ...", flush=True)
        print(train(name, images), flush=True)
        write_report()
    write_report()


if __name__ == "__main__":
    main()
