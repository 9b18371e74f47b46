"""PCA-KD Table 1: model size and inference time at HD .. 8K, students and teacher, one run, one device.

Models: Ours-VGG (283K), Ours-VGG-CKD (440K), Ours-Mob (52.7K + eigenbases), and the teacher pipeline
(full VGG-19 to relu4_1 + full-width blockwise decoders with HFR, 7.01M: the PhotoWCT2-like reference,
whose paper row is PhotoWCT2's 7.05M). The timed call is a full stylisation (``PCAKD.stylize``:
encode content and style, ZCA at relu4_1e, then each decoder block + ZCA, clip), batch 1, content and
style at the same resolution, guided filter off, float32. Timing: ``stylelab.bench.latency``
(warm-up, median of repeats, peak memory above the baseline, OOM as a cell).

This machine is a shared 2-core CPU: resolutions are tried in increasing order per model and a cell is
*not run* when its estimated time (previous median x pixel ratio x calls) exceeds the model's time
budget or its estimated peak memory exceeds ``--memory-cap-gib`` (a real out-of-memory on a shared
machine would take the other users' jobs down with it). The paper's numbers are GPU seconds (RTX8000).

Writes ``reports/pcakd/table1.md`` and ``reports/pcakd/table1.csv``.
Run: ``STYLELAB_SHARED_DATA=... python experiments/pcakd/table1.py [--budget-s 240] [--memory-cap-gib 10]``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from stylelab.bench import TimingConfig, TimingTable, device_description, latency
from stylelab.data import load_image
from stylelab.methods.pcakd import PCAKD
from stylelab.metrics import parameter_counts
from stylelab.utils.io import atomic_save_text

REPO = Path(__file__).resolve().parents[2]
RESOLUTIONS = {
    "HD": (720, 1280),
    "FHD": (1080, 1920),
    "QHD": (1440, 2560),
    "4K": (2160, 3840),
    "5K": (2880, 5120),
    "8K": (4320, 7680),
}
#: Table 1 of the paper (seconds per image on an RTX8000; None = OOM) and its sizes.
PAPER = {
    "Ours-VGG": ("283K", [0.05, 0.07, 0.11, 0.22, 0.38, 0.82]),
    "Ours-VGG-CKD": ("440K", [0.06, 0.09, 0.13, 0.25, 0.42, 0.92]),
    "Ours-Mob": ("73K", [0.04, 0.05, 0.06, 0.10, 0.17, 0.38]),
    "Teacher pipeline": ("7.05M (PhotoWCT2)", [0.32, 0.45, 0.69, 1.26, 2.14, None]),
}
MODELS = {
    "Ours-VGG": {"backbone": "vgg"},
    "Ours-VGG-CKD": {"backbone": "vgg", "widths": [16, 32, 64, 128]},
    "Ours-Mob": {"backbone": "mobilenet"},
    "Teacher pipeline": {"backbone": "vgg_teacher"},
}


def photo_pair() -> tuple[torch.Tensor, torch.Tensor]:
    """A real content/style pair if the shared photos are there, else smooth random images."""
    shared = os.environ.get("STYLELAB_SHARED_DATA")
    if shared:
        root = Path(shared) / "images" / "photoreal_pairs"
        return load_image(root / "content" / "dpst_01.jpg")[None], load_image(root / "style" / "dpst_01.jpg")[
            None
        ]
    g = torch.Generator().manual_seed(0)
    return torch.rand(1, 3, 64, 96, generator=g), torch.rand(1, 3, 64, 96, generator=g)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget-s", type=float, default=240.0, help="time budget per student (seconds)")
    parser.add_argument("--teacher-budget-s", type=float, default=900.0, help="time budget of the teacher")
    parser.add_argument("--memory-cap-gib", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    args = parser.parse_args()
    torch.set_num_threads(2)
    start = time.time()
    content, style = photo_pair()
    config = TimingConfig(warmup=args.warmup, repeats=args.repeats, num_threads=2)
    table = TimingTable(
        "PCA-KD Table 1 (b): seconds per stylised image (content and style at the same resolution)",
        config=config,
        notes=[
            "paper: RTX8000 GPU seconds (Table 1); ours: this CPU. Teacher pipeline: paper row PhotoWCT2.",
            "guided filter off; float32; batch 1; ZCA in float64 (eigh) as in stylelab.ops.zca_transform.",
        ],
    )
    cells: dict[str, dict[str, str]] = {}
    sizes: dict[str, str] = {}
    for name in args.models:
        model = PCAKD(teacher_weights="vgg19_caffe_q8", pretrained=None, **MODELS[name]).eval()  # type: ignore[arg-type]
        counts = parameter_counts(model.net.autoencoder, auxiliary=("eigenbases",))
        if name == "Teacher pipeline":
            sizes[name] = f"{counts.without_auxiliary / 1e6:.2f}M"
        elif name == "Ours-Mob":
            sizes[name] = (
                f"{counts.without_auxiliary / 1e3:.1f}K ({counts.with_auxiliary / 1e3:.1f}K with eigenbases)"
            )
        else:
            sizes[name] = f"{counts.without_auxiliary / 1e3:.1f}K"
        cells[name] = {}
        spent, previous = 0.0, None  # (pixels, median_s, peak_bytes)
        for index, (label, (h, w)) in enumerate(RESOLUTIONS.items()):
            paper_s = PAPER[name][1][index]
            if previous is not None:
                ratio = h * w / previous[0]
                est_time = previous[1] * ratio * (args.warmup + args.repeats)
                est_mem = (previous[2] or 0) * ratio / 2**30
                if est_mem > args.memory_cap_gib:
                    cells[name][label] = f"not run (est. {est_mem:.0f} GiB > cap)"
                    continue
                budget = args.teacher_budget_s if name == "Teacher pipeline" else args.budget_s
                if spent + est_time > budget:
                    cells[name][label] = f"not run (est. {est_time:.0f} s > budget)"
                    continue

            def make_input(batch: int, hh: int, ww: int) -> tuple[torch.Tensor, torch.Tensor]:
                c = F.interpolate(content, size=(hh, ww), mode="bilinear", align_corners=False).clamp(0, 1)
                s = F.interpolate(style, size=(hh, ww), mode="bilinear", align_corners=False).clamp(0, 1)
                return c.repeat(batch, 1, 1, 1), s

            t0 = time.time()
            stylize = model.stylize
            row = latency(lambda x, f=stylize: f(*x), make_input, [(h, w)], "cpu", config, method=name)[0]
            spent += time.time() - t0
            table.add(row, paper=paper_s, variant=label)
            result = row.result
            if result.oom:
                cells[name][label] = "OOM"
                previous = None
                break
            peak = result.peak_memory_bytes
            cells[name][label] = f"{result.median_s:.2f}" + (f" ({peak / 2**30:.1f} GiB)" if peak else "")
            previous = (h * w, result.median_s, peak)
            print(name, label, cells[name][label], flush=True)
        del model

    header = "| Model | Size (ours) | Size (paper) | " + " | ".join(RESOLUTIONS) + " |"
    lines = [
        "# PCA-KD Table 1: size and inference time",
        "",
        f"- device: {device_description(torch.device('cpu'))}, torch {torch.__version__}; all cells measured "
        f"in one run (`python experiments/pcakd/table1.py --budget-s {args.budget_s:g} --teacher-budget-s "
        f"{args.teacher_budget_s:g} --memory-cap-gib {args.memory_cap_gib:g} --repeats {args.repeats}`), "
        f"total {time.time() - start:.0f} s",
        "- cell: ours = median seconds per image on this CPU (peak memory above baseline); paper = RTX8000 "
        "GPU seconds. `not run`: skipped to stay within the time budget / memory cap of a shared machine.",
        "- sizes: students without eigenbases (the paper's 283K/440K convention); Ours-Mob also with them "
        "(the paper's 73K counts them). Teacher pipeline: VGG-19 to relu4_1 + full-width decoders.",
        "",
        header,
        "|---|---|---|" + "---|" * len(RESOLUTIONS),
    ]
    for name in args.models:
        paper_size, paper_times = PAPER[name]
        ours = [cells[name].get(label, "—") for label in RESOLUTIONS]
        theirs = ["OOM" if t is None else f"{t:.2f}" for t in paper_times]
        lines.append(
            f"| {name} | {sizes[name]} | {paper_size} | "
            + " | ".join(f"{o} / paper {p}" for o, p in zip(ours, theirs, strict=True))
            + " |"
        )
    speed = ""
    if "Ours-VGG" in args.models and "Teacher pipeline" in args.models:
        rows = {(r.method, r.variant): r for r in table.rows}
        student, teacher = rows.get(("Ours-VGG", "FHD")), rows.get(("Teacher pipeline", "FHD"))
        if student and teacher and student.result.median_s and teacher.result.median_s:
            factor = teacher.result.median_s / student.result.median_s
            verdict = "meets" if factor >= 5 else "does NOT meet"
            speed = (
                f"\n**Speed-up at FHD (same device, same run): Ours-VGG is {factor:.1f}x faster than the "
                f"teacher pipeline** ({verdict} the >= 5x target; paper: 5-6x vs PhotoWCT2 on GPU).\n"
            )
    four_k = cells.get("Ours-VGG", {}).get("4K", "not run")
    lines += ["", speed, f"4K stylisation with Ours-VGG on this CPU: {four_k}.", "", table.to_markdown()]
    atomic_save_text(REPO / "reports" / "pcakd" / "table1.md", "\n".join(lines) + "\n")
    table.write(REPO / "reports" / "pcakd" / "table1.csv")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
