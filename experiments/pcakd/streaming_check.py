"""Streamed vs whole-image PCA-KD stylisation at a size where both fit (default FHD), both official students.

The streamed pass (:mod:`stylelab.methods.pcakd.streaming`, bands of 512 image rows, halo 8) must equal
the whole-image pass within 1e-4 (max abs, output in [0, 1]). Content and style: DPST pair 01 resized to
``--height x --width`` (bilinear). Writes ``reports/pcakd/streaming_check.md``.
Run: ``STYLELAB_SHARED_DATA=/abs/shared/data python experiments/pcakd/streaming_check.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPORTS, load_pair_image, pairs_root, stretch  # noqa: E402

from stylelab.methods.pcakd import PCAKD  # noqa: E402
from stylelab.reproduce.harness import ReportWriter  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--width", type=int, default=1920)
    args = parser.parse_args()
    root = pairs_root()
    torch.set_num_threads(2)
    content, style = (
        stretch(load_pair_image(root, kind, "dpst_01"), args.height, args.width)
        for kind in ("content", "style")
    )
    report = ReportWriter(
        REPORTS / "streaming_check.md",
        f"PCA-KD: streamed vs whole-image stylisation at {args.width}x{args.height}",
        budget="one whole-image and one streamed call per student, 2 threads",
    )
    report.add(
        f"- load average {os.getloadavg()[0]:.2f} at the start\n"
        "- content/style: DPST pair 01 resized (bilinear); guided filter off; output clamped to [0, 1]"
    )
    rows = []
    for backbone in ("vgg", "mobilenet"):
        model = PCAKD(backbone=backbone, pretrained=f"official_{backbone}").eval()  # type: ignore[arg-type]
        t0 = time.time()
        whole = model.stylize(content, style, streaming="never")
        t1 = time.time()
        streamed = model.stylize(content, style, streaming="always")
        t2 = time.time()
        diff = (whole - streamed).abs()
        rows.append(
            [
                f"official {backbone}",
                f"{float(diff.max()):.3g}",
                f"{float(diff.mean()):.3g}",
                f"{t1 - t0:.1f}",
                f"{t2 - t1:.1f}",
            ]
        )
        print(rows[-1], flush=True)
    report.table(
        ["student", "max abs difference", "mean abs difference", "whole-image s", "streamed s"], rows
    )
    print(report.write().read_text())


if __name__ == "__main__":
    main()
