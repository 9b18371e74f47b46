"""Table 1: average inference time at 256 x 256 and 512 x 512, batch 1 (paper: Tesla V100).

Times SK (k = 3), the SANet-style variant of this package (the Fig. 8 reference, one attention level)
and stylelab's AdaIN with :func:`stylelab.bench.latency` on this machine's CPU. Weights do not change
the time, so untrained networks with the real encoders are timed. The paper's V100 numbers stand beside
ours only as a reference: a 2-core CPU shared with other jobs is not a V100, and the ratio says nothing
about agreement.

Run: ``STYLELAB_WEIGHTS=... python experiments/stylekernel/table1_timing.py``
Writes ``reports/stylekernel/table1.md`` (+ ``table1.csv``).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import torch

from stylelab.bench import TimingConfig, TimingTable, latency
from stylelab.methods import AdaIN
from stylelab.methods.stylekernel import StyleKernel
from stylelab.reproduce.harness import header_lines
from stylelab.utils.io import atomic_save_text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PAPER_TABLE1, PAPER_TABLE1_OTHERS, REPORTS, example_pair  # noqa: E402

SIZES = (256, 512)
CONFIG = TimingConfig(warmup=1, repeats=5, num_threads=1)


def time_method(
    table: TimingTable, name: str, model: torch.nn.Module, paper: tuple[float, float] | None
) -> None:
    pairs = {size: example_pair(size) for size in SIZES}

    def make(b: int, h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
        return pairs[h]

    rows = latency(lambda pair: model.stylize(*pair), make, list(SIZES), "cpu", CONFIG, method=name,
                   variant=model.variant())  # fmt: skip
    for size, row in zip(SIZES, rows, strict=True):
        table.add(row, paper=None if paper is None else paper[SIZES.index(size)])
        print(f"{name} {size}: {row.result.median_s:.3f} s", flush=True)


def main() -> None:
    torch.set_num_threads(1)
    started, load_before = time.time(), os.getloadavg()
    table = TimingTable(
        "Table 1: inference time, batch 1 (ours: CPU; paper: Tesla V100)",
        config=CONFIG,
        notes=[
            "paper column: the paper's V100 seconds (spec 3.7; its second row is T_512). ours/paper only "
            "shows how far this CPU is from that GPU; it is not a reproduction check.",
        ],
    )
    time_method(table, "SK (ours, k=3)", StyleKernel().eval(), (PAPER_TABLE1[256], PAPER_TABLE1[512]))
    sanet = StyleKernel(architecture="sanet", cgm=False).eval()
    time_method(table, "SANet-style attention (SK package)", sanet, PAPER_TABLE1_OTHERS["SANet'19"])
    time_method(table, "SANet-style + CGM (SK package)", StyleKernel(architecture="sanet").eval(), None)
    time_method(table, "AdaIN (stylelab)", AdaIN().eval(), PAPER_TABLE1_OTHERS["AdaIN'17"])
    load_after = os.getloadavg()
    others = ", ".join(f"{k} {a:.3f} / {b:.3f} s" for k, (a, b) in PAPER_TABLE1_OTHERS.items())
    lines = [
        "# SK Table 1: inference time (256 x 256 and 512 x 512, batch 1)",
        "",
        *header_lines("batch 1 at 256 and 512, 1 thread", elapsed_s=time.time() - started),
        f"- load average (1 min) before / after: {load_before[0]:.1f} / {load_after[0]:.1f} on 2 cores: the "
        "CPU was shared with other jobs, so absolute times are inflated and noisy; compare rows, not "
        "machines.",
        "- inputs: a staged photo and artwork, both resized and centre-cropped to S x S; the call timed is "
        "`method.stylize(content, style)` (encoder, attention, kernels, decoder; no file I/O).",
        "- SANet-style rows: this package's `architecture: sanet` (one attention level at relu4_1, SANet's "
        "projections, SK's VGG-16 and decoder), a stand-in for SANet, not SANet's released model.",
        f"- other methods in the paper's Table 1 (V100, T_256 / T_512): {others}.",
        "",
        table.to_markdown(),
    ]
    REPORTS.mkdir(parents=True, exist_ok=True)
    atomic_save_text(REPORTS / "table1.md", "\n".join(lines))
    table.write(REPORTS / "table1.csv")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
