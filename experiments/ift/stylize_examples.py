"""`stylelab stylize` with the IFT checkpoint: two weighted styles, and masks on a photorealistic pair.

    STYLELAB_SHARED_DATA=../shared/data python experiments/ift/stylize_examples.py

Runs the real command line (``stylelab.cli.main``) and writes the images to reports/ift/images/ and the
commands to reports/ift/stylize_examples.md. The decoder is the short CPU-trained one
(experiments/ift/train_decoder.py), so the images show the plumbing, not the paper's quality.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CHECKPOINT, REPORTS  # noqa: E402

from stylelab.cli import main as cli  # noqa: E402
from stylelab.reproduce.harness import ReportWriter  # noqa: E402
from stylelab.reproduce.images import shared_root  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", default=None)
    parser.add_argument("--max-size", type=int, default=320)
    args = parser.parse_args()
    report = ReportWriter(
        REPORTS / "stylize_examples.md",
        "`stylelab stylize` examples (IFT)",
        budget=f"one `stylelab stylize` call per example, --max-size {args.max_size}",
    )
    shared = shared_root(args.shared)
    if not CHECKPOINT.is_file():
        raise SystemExit(f"no checkpoint at {CHECKPOINT}: run experiments/ift/train_decoder.py first")
    images, pairs = shared / "images", shared / "images" / "photoreal_pairs"
    out = REPORTS / "images"
    common = [
        "stylize",
        "--checkpoint",
        str(CHECKPOINT),
        "--output",
        str(out),
        "--max-size",
        str(args.max_size),
    ]
    runs = {
        "two styles, weights 0.7 / 0.3": [
            "--content", str(images / "content" / "newyork.jpg"),
            "--style", str(images / "style" / "starry_night_crop.jpg"), str(images / "style" / "candy.jpg"),
            "--style-weights", "0.7,0.3", "--preset", "conservative",
        ],
        "masks, photorealistic pair dpst_01": [
            "--content", str(pairs / "content" / "dpst_01.jpg"),
            "--style", str(pairs / "style" / "dpst_01.jpg"),
            "--content-mask", str(pairs / "content_seg" / "dpst_01.png"),
            "--style-mask", str(pairs / "style_seg" / "dpst_01.png"),
        ],
        "masks and two weighted styles (dpst_20 with its own style and dpst_04's)": [
            "--content", str(pairs / "content" / "dpst_20.jpg"),
            "--style", str(pairs / "style" / "dpst_20.jpg"), str(pairs / "style" / "dpst_04.jpg"),
            "--content-mask", str(pairs / "content_seg" / "dpst_20.png"),
            "--style-mask", str(pairs / "style_seg" / "dpst_20.png"),
            str(pairs / "style_seg" / "dpst_04.png"),
            "--style-weights", "0.5,0.5", "--lam", "relu4_1=50",
        ],
    }  # fmt: skip
    lines = [
        "Decoder: the short CPU-trained checkpoint "
        "(configs/experiments/ift/cpu_small.yaml), so these images check the command line, masks and "
        "weights, not the paper's image quality. Paths below are relative to the shared data folder.",
        "",
    ]
    for title, extra in runs.items():
        start = time.perf_counter()
        code = cli([*common, *extra])
        seconds = time.perf_counter() - start
        shown = " ".join(shlex.quote(a.replace(str(shared) + "/", "")) for a in ["stylelab", *common, *extra])
        shown = shown.replace(str(CHECKPOINT), "outputs/ift_cpu/checkpoints/last.ckpt").replace(
            str(out), "reports/ift/images"
        )
        lines += [f"## {title}", "", "```bash", shown, "```", "", f"exit code {code}, {seconds:.0f} s", ""]
    lines += ["Outputs: " + ", ".join(f"`images/{p.name}`" for p in sorted(out.glob("*.png"))), ""]
    report.add("\n".join(lines).rstrip("\n")).write()
    print(report.path.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
