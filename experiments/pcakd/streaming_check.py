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
import torch.nn.functional as F

from stylelab.bench import device_description
from stylelab.data import load_image
from stylelab.methods.pcakd import PCAKD
from stylelab.utils.io import atomic_save_text

REPO = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--width", type=int, default=1920)
    args = parser.parse_args()
    shared = os.environ.get("STYLELAB_SHARED_DATA")
    if not shared:
        sys.exit("set STYLELAB_SHARED_DATA")
    torch.set_num_threads(2)
    root = Path(shared) / "images" / "photoreal_pairs"
    size = (args.height, args.width)

    def read(kind: str) -> torch.Tensor:
        image = load_image(root / kind / "dpst_01.jpg")[None]
        return F.interpolate(image, size=size, mode="bilinear", align_corners=False).clamp(0, 1)

    content, style = read("content"), read("style")
    lines = [
        f"# PCA-KD: streamed vs whole-image stylisation at {args.width}x{args.height}",
        "",
        f"- device: {device_description(torch.device('cpu'))}; load average {os.getloadavg()[0]:.2f} at "
        "the start",
        "- content/style: DPST pair 01 resized (bilinear); guided filter off; output clamped to [0, 1]",
        "- command: `python experiments/pcakd/streaming_check.py "
        f"--height {args.height} --width {args.width}`",
        "",
        "| student | max abs difference | mean abs difference | whole-image s | streamed s |",
        "|---|---|---|---|---|",
    ]
    for backbone in ("vgg", "mobilenet"):
        model = PCAKD(backbone=backbone, pretrained=f"official_{backbone}").eval()  # type: ignore[arg-type]
        t0 = time.time()
        whole = model.stylize(content, style, streaming="never")
        t1 = time.time()
        streamed = model.stylize(content, style, streaming="always")
        t2 = time.time()
        diff = (whole - streamed).abs()
        lines.append(
            f"| official {backbone} | {float(diff.max()):.3g} | {float(diff.mean()):.3g} | {t1 - t0:.1f} | "
            f"{t2 - t1:.1f} |"
        )
        print(lines[-1], flush=True)
    atomic_save_text(REPO / "reports" / "pcakd" / "streaming_check.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
