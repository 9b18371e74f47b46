"""When does the reference fixed step (0.01) lower the objective at every update? -> reports/ift/descent.md.

    STYLELAB_SHARED_DATA=../shared/data python experiments/ift/descent.py

For each lambda table (conservative = photorealistic, reference model defaults, demo notebook), each
level, two resolutions and four photo/painting pairs, 15 fixed-step updates on encoder features in
channel-scale units; we record whether every update lowered the objective (monotone), whether the
round ended above its start (diverged; stylelab then redoes the level with the line search), and the
objective after 15 fixed steps vs after 15 line-search steps. The style term's gradient carries a
``1/n`` (n = positions), so the same lambda is "stronger" on smaller images.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import MULTI_STYLE_CASES, REPORTS, load_model  # noqa: E402

from stylelab.methods.ift import LEVELS, resolve_levels  # noqa: E402
from stylelab.ops.ift import IFTDivergenceError, ift_transform  # noqa: E402
from stylelab.reproduce.harness import ReportWriter  # noqa: E402
from stylelab.reproduce.images import load_resized, shared_root  # noqa: E402
from stylelab.reproduce.markdown import markdown_table  # noqa: E402

TABLES = ("conservative", "reference", "demo")


def run(x: torch.Tensor, y: torch.Tensor, lam: float, rule: str) -> tuple[list[float], bool]:
    trace: list[torch.Tensor] = []
    try:
        ift_transform(x, y, lam=lam, n_upd=15, step_rule=rule, trace=trace)  # type: ignore[arg-type]
        diverged = False
    except IFTDivergenceError:
        diverged = True
    return [float(t[0]) for t in trace], diverged


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", default=None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    args = parser.parse_args()
    report = ReportWriter(
        REPORTS / "descent.md",
        "Fixed step 0.01 vs exact line search (15 updates)",
        budget=f"4 pairs at {'/'.join(map(str, args.sizes))} px, 15 updates per run, 2 threads",
    )
    shared = shared_root(args.shared)
    torch.set_num_threads(2)
    model, _ = load_model(shared)
    net = model.net
    stats: dict[tuple[str, str, int], list[tuple[bool, bool, float]]] = {}
    for size in args.sizes:
        for content_name, style_name, _ in MULTI_STYLE_CASES:
            with torch.no_grad():
                fc = net.encode(load_resized(shared / "images" / "content" / content_name, size))[0]
                fs = net.encode(load_resized(shared / "images" / "style" / style_name, size))[0]
                scales = net.scales_for(fc, fs)
            for level in LEVELS:
                x, y = fc[level] / scales[level], fs[level] / scales[level]
                for table in TABLES:
                    lam = resolve_levels(table)[level].lam
                    fixed, diverged = run(x, y, lam, "fixed")
                    line, _ = run(x, y, lam, "line_search")
                    monotone = not diverged and all(b < a for a, b in zip(fixed, fixed[1:], strict=False))
                    ratio = fixed[-1] / line[-1] if fixed and not diverged and line[-1] > 0 else float("nan")
                    stats.setdefault((table, level, size), []).append((monotone, diverged, ratio))
            print("done", size, content_name)
    rows = []

    def order(item: tuple) -> tuple:
        (table, level, size), _ = item
        return TABLES.index(table), size, LEVELS.index(level)

    for (table, level, size), values in sorted(stats.items(), key=order):
        lam = resolve_levels(table)[level].lam
        ratios = [r for _, _, r in values if r == r]
        rows.append([
            table, f"{size}x{size}", level, f"{lam:g}",
            f"{sum(m for m, _, _ in values)} / {len(values)}",
            f"{sum(d for _, d, _ in values)} / {len(values)}",
            f"{sum(ratios) / len(ratios):.2f}" if ratios else "—",
        ])  # fmt: skip
    text = "\n".join(
        [
            "Four photo/painting pairs "
            "(experiments/ift/common.py), content and style at the same size; Caffe VGG-19 (q8) features "
            "in channel-scale units.",
            "",
            markdown_table(
                [
                    "lambda table",
                    "image",
                    "level",
                    "lambda",
                    "every update lowers l",
                    "diverged",
                    "l(15 fixed) / l(15 line search), mean",
                ],
                rows,
            ),  # fmt: skip
            "",
            "The acceptance test tests/methods/ift/test_real_data.py checks the default table "
            "(photorealistic = conservative lambda) at 512x512 on one pair; this table shows where the "
            "property holds and where it does not.",
            "",
        ]
    )
    report.add(text.rstrip("\n")).write()
    print(report.path.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
