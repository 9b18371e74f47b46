"""PCA-KD Table 1: model size and inference time at HD .. 8K, students and teacher, one run, one device.

Models: Ours-VGG and Ours-Mob with the PCA-KD authors' trained weights (``pretrained="official_vgg"`` /
``"official_mobilenet"``, 283K and 52.7K + eigenbases), Ours-VGG-CKD (440K), and the teacher pipeline
(full VGG-19 to relu4_1 + full-width blockwise decoders with HFR, 7.01M parameters: the
PhotoWCT2-like reference whose paper row is PhotoWCT2's 7.05M). The timed call is a full stylisation
(``PCAKD.stylize``: encode content and style, ZCA at relu4_1e, then each decoder block + ZCA, clip;
from 4K on the students take the streamed pass, :mod:`stylelab.methods.pcakd.streaming`), batch 1,
content and style at the same resolution, guided filter off, float32, via
``stylelab.bench.measure`` (median of repeats, peak memory = process RSS high-water mark).
Speed and memory do not depend on the weights, so the non-shipped models use their initial weights.

Safety on a shared machine: every (model, resolution) cell runs in its own child process whose address
space is capped with ``RLIMIT_AS`` (``--cap-gib``), so a cell that needs more memory fails with an
allocation error (reported as ``OOM (> cap)``) instead of exhausting the machine; a larger resolution of
a model that already ran out of memory is not tried. A cell is also *not run* when its estimated time
(previous median x pixel ratio x calls) would exceed the model's time budget (a larger size may still
run when it is timed with fewer calls). Each child makes one untimed 256x256 call first (thread pools,
lazy initialisation); cells below ``--large-mpix`` then use ``--warmup``/``--repeats``, larger ones one
timed call with no warm-up.

Writes ``reports/pcakd/table1.md`` and ``reports/pcakd/table1.csv``.
Run (a timing run: take the shared lock):
``STYLELAB_WEIGHTS=../shared/data/weights STYLELAB_SHARED_DATA=../shared/data \\
flock /tmp/stylelab-timing.lock python experiments/pcakd/table1.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPORTS, load_pair_image, stretch  # noqa: E402

from stylelab.bench import TimingConfig, device_description, measure  # noqa: E402
from stylelab.methods.pcakd import PCAKD  # noqa: E402
from stylelab.metrics import parameter_counts  # noqa: E402
from stylelab.reproduce.cache import write_dict_csv  # noqa: E402
from stylelab.reproduce.harness import ReportWriter  # noqa: E402
from stylelab.reproduce.images import optional_shared_images  # noqa: E402

GIB = 2**30
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
    "Ours-VGG (authors' weights)": ("283K", [0.05, 0.07, 0.11, 0.22, 0.38, 0.82]),
    "Ours-VGG-CKD": ("440K", [0.06, 0.09, 0.13, 0.25, 0.42, 0.92]),
    "Ours-Mob (authors' weights)": ("73K", [0.04, 0.05, 0.06, 0.10, 0.17, 0.38]),
    "Teacher pipeline": ("7.05M (PhotoWCT2)", [0.32, 0.45, 0.69, 1.26, 2.14, None]),
}
MODELS: dict[str, dict[str, object]] = {
    "Ours-VGG (authors' weights)": {"pretrained": "official_vgg"},
    "Ours-Mob (authors' weights)": {"backbone": "mobilenet", "pretrained": "official_mobilenet"},
    "Teacher pipeline": {"backbone": "vgg_teacher", "pretrained": None},
    "Ours-VGG-CKD": {"backbone": "vgg", "widths": [16, 32, 64, 128], "pretrained": None},
}
VGG, MOB = "Ours-VGG (authors' weights)", "Ours-Mob (authors' weights)"
TEACHER = "Teacher pipeline"
RESULT_TAG = "CELL_RESULT "


def build(name: str) -> PCAKD:
    """The model of row ``name`` in eval mode."""
    return PCAKD(teacher_weights="vgg19_caffe_q8", **MODELS[name]).eval()  # type: ignore[arg-type]


def photo_pair() -> tuple[torch.Tensor, torch.Tensor]:
    """A real content/style pair if the shared photos are there, else smooth random images."""
    images = optional_shared_images()
    if images is not None:
        root = images / "photoreal_pairs"
        return load_pair_image(root, "content", "dpst_01"), load_pair_image(root, "style", "dpst_01")
    g = torch.Generator().manual_seed(0)
    return torch.rand(1, 3, 64, 96, generator=g), torch.rand(1, 3, 64, 96, generator=g)


def run_cell(name: str, height: int, width: int, warmup: int, repeats: int) -> dict[str, object]:
    """Time one stylisation at ``height x width`` in this process (the child side)."""
    torch.set_num_threads(2)
    model = build(name)
    content, style = photo_pair()
    with torch.no_grad():
        model.stylize(stretch(content, 256, 256), stretch(style, 256, 256))  # untimed global warm-up
        c, s = stretch(content, height, width), stretch(style, height, width)
        del content, style
        result = measure(
            lambda: model.stylize(c, s),
            "cpu",
            TimingConfig(warmup=warmup, repeats=repeats, num_threads=2),
        )
    total_peak = None
    if result.peak_memory_bytes is not None and result.baseline_memory_bytes is not None:
        total_peak = result.peak_memory_bytes + result.baseline_memory_bytes
    return {
        "oom": result.oom,
        "error": result.error,
        "median_s": result.median_s,
        "times_s": list(result.times_s),
        "peak_above_baseline_bytes": result.peak_memory_bytes,
        "peak_total_bytes": total_peak,
        "warmup": warmup,
        "repeats": repeats,
        "device": result.device_name,
    }


def spawn_cell(
    name: str, label: str, args: argparse.Namespace, warmup: int, repeats: int
) -> dict[str, object]:
    """Run one cell in a child process under an address-space cap; classify failures."""
    cap = int(args.cap_gib * GIB)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    command = [
        sys.executable,
        __file__,
        "--cell",
        name,
        label,
        "--warmup",
        str(warmup),
        "--repeats",
        str(repeats),
    ]
    try:
        done = subprocess.run(
            command,
            preexec_fn=limit,  # noqa: PLW1509 - no threads in the parent at this point
            capture_output=True,
            text=True,
            timeout=args.cell_timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"status": f"not finished (> {args.cell_timeout_s:g} s timeout)"}
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_TAG):
            record = json.loads(line[len(RESULT_TAG) :])
            record["status"] = "OOM (> cap)" if record["oom"] else "ok"
            return record
    tail = (done.stderr or "").strip().splitlines()[-3:]
    message = " ".join(tail)
    oom_words = ("can't allocate", "cannot allocate", "MemoryError", "bad_alloc", "out of memory")
    if done.returncode < 0 or any(word.lower() in message.lower() for word in oom_words):
        return {"status": "OOM (> cap)", "error": message or f"signal {-done.returncode}"}
    raise RuntimeError(f"cell {name} {label} failed (rc {done.returncode}): {message}")


def size_label(name: str, model: PCAKD) -> str:
    """Parameter count as printed in the table (students without eigenbases, like the paper)."""
    counts = parameter_counts(model.net.autoencoder, auxiliary=("eigenbases",))
    if name == TEACHER:
        return f"{counts.without_auxiliary / 1e6:.2f}M"
    if name == MOB:
        return f"{counts.without_auxiliary / 1e3:.1f}K ({counts.with_auxiliary / 1e3:.1f}K with eigenbases)"
    return f"{counts.without_auxiliary / 1e3:.1f}K"


def cell_text(record: dict[str, object]) -> str:
    """``seconds (peak GiB)`` or the status."""
    if record["status"] != "ok":
        return str(record["status"])
    peak = record.get("peak_total_bytes")
    memory = f" ({float(peak) / GIB:.1f} GiB)" if peak else ""  # type: ignore[arg-type]
    return f"{float(record['median_s']):.2f}{memory}"  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cell", nargs=2, metavar=("MODEL", "RESOLUTION"), help=argparse.SUPPRESS)
    parser.add_argument("--budget-s", type=float, default=700.0, help="time budget of Ours-VGG (seconds)")
    parser.add_argument("--mob-budget-s", type=float, default=600.0, help="time budget of Ours-Mob")
    parser.add_argument("--other-budget-s", type=float, default=150.0, help="budget of Ours-VGG-CKD")
    parser.add_argument("--teacher-budget-s", type=float, default=700.0, help="budget of the teacher")
    parser.add_argument("--cap-gib", type=float, default=14.0, help="RLIMIT_AS of each cell (GiB)")
    parser.add_argument("--cell-timeout-s", type=float, default=900.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--teacher-repeats", type=int, default=1)
    parser.add_argument("--large-mpix", type=float, default=3.0, help="from here on: 1 call, no warm-up")
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    args = parser.parse_args()
    if args.cell:
        h, w = RESOLUTIONS[args.cell[1]]
        record = run_cell(args.cell[0], h, w, args.warmup, args.repeats)
        print(RESULT_TAG + json.dumps(record), flush=True)
        return
    unknown = sorted(set(args.models) - set(MODELS))
    if unknown:
        sys.exit(f"unknown models {unknown}; choose from {list(MODELS)}")

    report = ReportWriter(
        REPORTS / "table1.md",
        "PCA-KD Table 1: size and inference time (this CPU) next to the paper (RTX8000 GPU)",
    )
    start = time.time()
    load_start = os.getloadavg()
    records: dict[str, dict[str, dict[str, object]]] = {}
    sizes: dict[str, str] = {}
    for name in args.models:
        sizes[name] = size_label(name, build(name))
        budget = {VGG: args.budget_s, MOB: args.mob_budget_s, TEACHER: args.teacher_budget_s}.get(
            name, args.other_budget_s
        )
        records[name] = {}
        spent, oom_seen = 0.0, False
        previous: tuple[int, float] | None = None  # (pixels, seconds) of the last cell that ran
        for label, (h, w) in RESOLUTIONS.items():
            large = h * w / 1e6 >= args.large_mpix
            warmup = 0 if (large or name == TEACHER) else args.warmup
            repeats = 1 if large else (args.teacher_repeats if name == TEACHER else args.repeats)
            if oom_seen:
                records[name][label] = {"status": "OOM (> cap; a smaller size already was)"}
                continue
            if previous is not None:
                estimate = previous[1] * h * w / previous[0] * (warmup + repeats)
                if spent + estimate > budget:
                    records[name][label] = {"status": f"not run (est. {estimate:.0f} s > budget)"}
                    continue
            t0 = time.time()
            record = spawn_cell(name, label, args, warmup, repeats)
            spent += time.time() - t0
            records[name][label] = record
            status = str(record["status"])
            if status == "ok":
                previous = (h * w, float(record["median_s"]))  # type: ignore[arg-type]
            elif status.startswith("OOM"):
                oom_seen = True
            else:  # timed out: the next size would too
                previous = (h * w, args.cell_timeout_s)
            print(name, label, cell_text(record), f"[{time.time() - start:.0f} s]", flush=True)
    load_end = os.getloadavg()
    write_reports(report, args, records, sizes, time.time() - start, load_start, load_end)


def write_reports(
    report: ReportWriter,
    args: argparse.Namespace,
    records: dict[str, dict[str, dict[str, object]]],
    sizes: dict[str, str],
    seconds: float,
    load_start: tuple[float, float, float],
    load_end: tuple[float, float, float],
) -> None:
    """Write ``table1.md`` (with the targets) and ``table1.csv``."""
    report.budget = (
        f"budgets (s) Ours-VGG {args.budget_s:g}, Ours-Mob {args.mob_budget_s:g}, teacher "
        f"{args.teacher_budget_s:g}, others {args.other_budget_s:g}; {args.cap_gib:g} GiB per cell; "
        f"{seconds / 60:.1f} min"
    )
    lines = [
        f"- machine: a **shared** 2-core machine (load average {load_start[0]:.2f} at the start, "
        f"{load_end[0]:.2f} at the end of the run), so absolute seconds carry the other users' load; every "
        "cell comes from this one run (under `flock /tmp/stylelab-timing.lock`).",
        "- timed call: full stylisation (`PCAKD.stylize`: encode content + style, ZCA at relu4_1e, each "
        "decoder block + ZCA, clip), batch 1, content and style at the cell's resolution (DPST pair 01 "
        "resized), float32, ZCA eigh in float64, **guided filter off**; students from 4K (3840x2160 pixels) "
        "on: the streamed pass (bands of 512 image rows, exact halos, ZCA statistics over the whole image; "
        "equal to the whole-image pass, `tests/methods/pcakd/test_streaming.py`), below it the whole-image "
        "pass.",
        f"- cell = median seconds per image (process peak RSS, including the ~0.8 GiB of torch + model). "
        f"Each cell runs in a fresh child process with `RLIMIT_AS` = {args.cap_gib:g} GiB of address space "
        "(the torch process alone maps ~3.7 GiB of it before any work, so roughly 10 GiB are left for "
        "tensors): `OOM (> cap)` = an allocation failed under that cap, i.e. the cell needs more than "
        "that, not that 24 GiB would not suffice. `not run` = skipped because its estimated time exceeds "
        "the model's time budget on the shared CPU.",
        f"- repeats: one untimed 256x256 call per child, then {args.warmup} warm-up + {args.repeats} "
        f"timed calls below {args.large_mpix:g} Mpix (HD, FHD), 1 timed call at QHD and above; teacher: "
        f"{args.teacher_repeats} timed call, no warm-up beyond the 256x256 call.",
        "- models: Ours-VGG and Ours-Mob = the PCA-KD authors' trained students (registry "
        "`pcakd_vgg_official`, `pcakd_mobilenet_official`; stylelab's own distilled VGG student has the "
        "same architecture, hence the same cost); Ours-VGG-CKD and the teacher pipeline use initial "
        "(untrained) weights - valid for time "
        "and memory (they do not depend on the weights), not for quality. Teacher pipeline = normalised "
        "VGG-19 to relu4_1 + full-width decoders (64/128/256/512) with box HFR, the PhotoWCT2-like "
        "reference; its paper row is PhotoWCT2's.",
        "- sizes: students without eigenbases (the paper's 283K/440K convention); Ours-Mob also with them "
        "(the paper's 73K counts the v1-sized eigenbases: 52,742 + 20,096 = 72,838, as in the authors' "
        "checkpoint).",
    ]
    report.add("\n".join(lines))
    rows = []
    for name, per_size in records.items():
        paper_size, paper_times = PAPER[name]
        ours = [cell_text(per_size[label]) for label in RESOLUTIONS]
        theirs = ["OOM" if t is None else f"{t:.2f}" for t in paper_times]
        rows.append(
            [name, sizes[name], paper_size, *(f"{o}<br>paper {p}" for o, p in zip(ours, theirs, strict=True))]
        )
    report.table(["Model", "Size (ours)", "Size (paper)", *RESOLUTIONS], rows)
    report.add("## Targets (issue 4, item 6)", "\n".join(targets(records)))
    write_dict_csv(
        REPORTS / "table1.csv", csv_rows(records, device_description(torch.device("cpu"))), CSV_FIELDS
    )
    print(report.write().read_text())


def targets(records: dict[str, dict[str, dict[str, object]]]) -> list[str]:
    """The speed-up and 4K-memory checks, from this run's cells."""
    out = []
    student, teacher = records.get(VGG, {}).get("FHD"), records.get(TEACHER, {}).get("FHD")
    if student and teacher and student["status"] == "ok" and teacher["status"] == "ok":
        factor = float(teacher["median_s"]) / float(student["median_s"])  # type: ignore[arg-type]
        verdict = "MET" if factor >= 5 else "NOT MET"
        out.append(
            f"- **FHD speed-up: Ours-VGG {float(student['median_s']):.2f} s vs teacher pipeline "  # type: ignore[arg-type]
            f"{float(teacher['median_s']):.2f} s = {factor:.1f}x** (target >= 5x: {verdict}; paper: 5-6x vs "  # type: ignore[arg-type]
            "PhotoWCT2 on GPU)."
        )
    else:
        out.append("- FHD speed-up: not measured (a FHD cell is missing in this run).")
    for name in (VGG, MOB):
        for label in ("4K", "8K"):
            cell = records.get(name, {}).get(label)
            if cell and cell["status"] == "ok":
                peak = float(cell["peak_total_bytes"] or 0) / GIB  # type: ignore[arg-type]
                verdict = "MET" if peak < 24 else "NOT MET"
                out.append(
                    f"- **{label} stylisation with {name} completes on this CPU: "
                    f"{float(cell['median_s']):.1f} s, process peak RSS {peak:.2f} GiB** (streamed pass; "  # type: ignore[arg-type]
                    f"target: within 24 GiB: {verdict})."
                )
            else:
                out.append(
                    f"- {label} stylisation with {name}: {cell['status'] if cell else 'not measured'}."
                )
    return out


CSV_FIELDS = ["model", "resolution", "height", "width", "status", "median_s", "times_s", "warmup", "repeats"]
CSV_FIELDS += ["peak_total_bytes", "peak_above_baseline_bytes", "paper_s", "device", "error"]


def csv_rows(records: dict[str, dict[str, dict[str, object]]], device: str) -> list[dict[str, object]]:
    """One row per cell (columns :data:`CSV_FIELDS`)."""
    rows = []
    for name, per_size in records.items():
        for index, (label, (h, w)) in enumerate(RESOLUTIONS.items()):
            record = dict(per_size[label])
            paper = PAPER[name][1][index]
            record.update(model=name, resolution=label, height=h, width=w, device=device)
            record["paper_s"] = "OOM" if paper is None else paper
            rows.append(record)
    return rows


if __name__ == "__main__":
    main()
