"""Train SK (k = 1, 3, 5), its ablations and an AdaIN reference with one small CPU budget.

Every run uses ``configs/stylekernel.yaml`` (+ the ablation's ``configs/experiments/stylekernel/*.yaml``)
and ``experiments/stylekernel/cpu_budget.yaml`` (staged photos x artworks, 96 crops, batch 2,
``G_STEPS`` generator updates; SK also makes one discriminator update per two, so its optimizer step
count is 1.5x). AdaIN gets ``configs/adain.yaml`` with the same data and ``G_STEPS`` updates. One
intra-op thread: on the shared 2-core machine two threads were 2-3x slower (OpenMP threads waiting for
each other while descheduled); several runs may be started side by side (one thread each).
Checkpoints: ``outputs/stylekernel_experiments/<run>/last.ckpt``; summary:
``reports/stylekernel/training.md``.

Run: ``STYLELAB_WEIGHTS=... STYLELAB_SHARED_DATA=... python experiments/stylekernel/train.py [run ...]``
(default: every run; a finished run is skipped unless ``--force``).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import time
from pathlib import Path

import torch

from stylelab.cli import run_lightning_cli
from stylelab.reproduce.harness import header_lines
from stylelab.reproduce.images import optional_shared_images
from stylelab.utils.io import atomic_save_text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, REPORTS, RUNS  # noqa: E402

BUDGET = Path(__file__).resolve().parent / "cpu_budget.yaml"
SK_MODEL_ARGS = ["--model.init_args.lr=2.0e-4", "--model.init_args.remd_samples=1024"]
#: generator updates of every run (measured ~1.3 CPU-s per SK generator update incl. its D share)
G_STEPS = 120
#: SK: G_STEPS generator + G_STEPS / 2 discriminator updates (d_every = 2)
SK_STEPS = G_STEPS + G_STEPS // 2
#: run name -> (base config, ablation config or None, optimizer steps)
RUNS_TABLE: dict[str, tuple[str, str | None, int]] = {
    "k3": ("stylekernel", None, SK_STEPS),
    "k1": ("stylekernel", "k1", SK_STEPS),
    "k5": ("stylekernel", "k5", SK_STEPS),
    "adain": ("adain", None, G_STEPS),
    "no_cgm": ("stylekernel", "no_cgm", SK_STEPS),
    "sanet_cgm": ("stylekernel", "sanet_cgm", SK_STEPS),
}
#: logged training rows averaged for the "first" and "last" loss columns (logged every 5 batches)
WINDOW = 10


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


def logged_windows(run_dir: Path) -> dict[str, tuple[float, float]]:
    """Mean of the first and of the last ``WINDOW`` logged values of each ``train/*`` metric."""
    files = sorted((run_dir / "logs").glob("version_*/metrics.csv"))
    if not files:
        return {}
    with files[-1].open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    windows = {}
    for key in rows[0] if rows else []:
        if not key.startswith("train/"):
            continue
        values = [float(r[key]) for r in rows if r.get(key) not in (None, "")]
        if values:
            first, last = values[:WINDOW], values[-WINDOW:]
            windows[key] = (sum(first) / len(first), sum(last) / len(last))
    return windows


def train(name: str, images: Path) -> dict:
    run_dir = RUNS / name
    if (run_dir / "logs").is_dir():
        shutil.rmtree(run_dir / "logs")  # a retrained run must not mix its logs with an older one's
    started, cpu_started = time.time(), time.process_time()
    sys.argv = sys.argv[:1]  # LightningCLI must not see this script's own arguments
    cli = run_lightning_cli(["fit", *arguments(name, images)])
    seconds, cpu_seconds = time.time() - started, time.process_time() - cpu_started
    target = run_dir / "last.ckpt"
    target.parent.mkdir(parents=True, exist_ok=True)
    cli.trainer.save_checkpoint(target)
    (run_dir / "eval.json").unlink(missing_ok=True)  # the cached evaluation belongs to the old weights
    metrics = {k: float(v) for k, v in cli.trainer.callback_metrics.items() if v.numel() == 1}
    summary = {
        "run": name,
        "variant": cli.model.variant(),
        "optimizer_steps": int(cli.trainer.global_step),
        "generator_steps": int(getattr(cli.model, "generator_steps", cli.trainer.global_step)),
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu_seconds, 1),
        "threads": torch.get_num_threads(),
        "logged_windows": logged_windows(run_dir),
        "batch_size": cli.datamodule.batch_size,
        "crop": cli.datamodule.train_transform.crop_size,
        "last_logged": metrics,
    }
    atomic_save_text(run_dir / "summary.json", json.dumps(summary, indent=2))
    return summary


def _pair(windows: dict, key: str, digits: int = 3) -> str:
    if key not in windows:
        return "n/a"
    first, last = windows[key]
    return f"{first:.{digits}g} → {last:.{digits}g}"


def write_report() -> None:
    rows = []
    for name in RUNS_TABLE:
        path = RUNS / name / "summary.json"
        if not path.is_file():
            continue
        s = json.loads(path.read_text())
        w = s.get("logged_windows", {})
        cpu = "n/a" if s.get("cpu_seconds") is None else f"{s['cpu_seconds']:.0f}"
        rows.append(
            f"| {name} | {s['variant']} | {s['generator_steps']} | {s['optimizer_steps']} "
            f"| {s['batch_size']} | {s['crop']} | {s['seconds']:.0f} | {cpu} "
            f"| {_pair(w, 'train/loss')} | {_pair(w, 'train/remd')} | {_pair(w, 'train/content')} "
            f"| {_pair(w, 'train/cgm_kept_fraction', 2)} |"
        )
    lines = [
        "# SK experiments: training budget",
        "",
        *header_lines(f"{G_STEPS} generator updates per run"),
        "- data: the staged photos (content, 21) and artworks (style, 26) split by `StyleTransferDataModule` "
        "(seed 0, val 5 %, test 25 %); training on the train split only; shorter side 112, random 96 crops.",
        "- recipe: the paper's losses and weights, Adam lr 2e-4 (paper 1e-4: doubled for the tiny budget), "
        "REMD on at most 1,024 positions, D once per two G steps.",
        f"- budget: {G_STEPS} generator updates per run (SK: + {G_STEPS // 2} discriminator updates), "
        "batch 2, 1 intra-op thread per run; five processes side by side (k3, k1, k5, no_cgm, and "
        "sanet_cgm followed by adain) on the shared 2-core CPU with other engineers' jobs (load average "
        "8-10), so wall time is several times the CPU time and neither is a speed measurement.",
        "- paper budget: 160,000 iterations, batch 16, 256 crops, ~80k COCO x ~80k WikiArt images, V100. "
        "These runs are about 3 orders of magnitude smaller in updates (and far smaller in data): every "
        "table built on them measures the code path and relative behaviour of barely trained models, not "
        "the paper's trained model.",
        f"- loss columns: mean of the first {WINDOW} → mean of the last {WINDOW} logged training values "
        f"(logged every 5 batches = 5 generator updates, {G_STEPS // 5} values per run; each value is one "
        "batch of 2). `loss` is each method's own total (AdaIN's is on another scale: content + 10 x "
        "mean/std style on the Caffe VGG-19); `remd`, `content` "
        "and the CGM kept fraction (share of attention entries kept by the gate; 1 without CGM) are SK-only.",
        "",
        "| run | variant | G updates | optimizer steps | batch | crop | wall time (s) | CPU time (s) "
        "| train loss | REMD | content | CGM kept fraction |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]
    atomic_save_text(REPORTS / "training.md", "\n".join(lines) + "\n")


def main() -> None:
    torch.set_num_threads(1)
    images = optional_shared_images()
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
