"""Issue speed targets for the relu4_1 transform (a benchmark printing ratios, not a timed test).

    STYLELAB_SHARED_DATA=../shared/data python experiments/ift/speed_targets.py

Targets: with 15 updates at relu4_1, (1) the transform for a 1024x1024 content image costs at most 2x
the 512x512 one, (2) at 512x512 it is not slower than one ZCA transform (float64 eigendecomposition,
``stylelab.ops.zca_transform``) at the same layer. Every iterate is ``M F_c`` with a ``C x C`` matrix
``M``, so the matrix form touches the ``n`` positions only to build ``F_c F_c^T`` and to apply ``M``;
the direct form (the reference code's loop on ``F``) is timed for comparison. Writes
reports/ift/speed_targets.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPORTS, calibrate  # noqa: E402

from stylelab.bench import TimingConfig, measure  # noqa: E402
from stylelab.methods.ift import IFTNet  # noqa: E402
from stylelab.ops import zca_transform  # noqa: E402
from stylelab.ops.ift import ift_transform  # noqa: E402
from stylelab.reproduce.harness import ReportWriter  # noqa: E402
from stylelab.reproduce.images import load_resized, shared_root  # noqa: E402
from stylelab.reproduce.markdown import markdown_table  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    report = ReportWriter(
        REPORTS / "speed_targets.md",
        "IFT speed targets at relu4_1 (15 updates, lambda 25, fixed step 0.01, float32)",
        budget=f"{args.repeats} repeats, {args.threads} threads",
    )
    shared = shared_root(args.shared)
    net = IFTNet("vgg19_caffe_q8").eval()

    calibrate(net, shared)
    photo = shared / "images" / "content" / "newyork.jpg"
    painting = shared / "images" / "style" / "starry_night_crop.jpg"
    with torch.no_grad():
        style = net.encode(load_resized(painting, 512))[0]["relu4_1"]
        scale = net.level_scale("relu4_1", style).view(1, -1, 1, 1)
        style = style / scale
        feats = {s: net.encode(load_resized(photo, s))[0]["relu4_1"] / scale for s in (512, 1024)}
    lam, n_upd = 25.0, 15  # photorealistic preset at relu4_1
    config = TimingConfig(warmup=1, repeats=args.repeats, num_threads=args.threads)
    results: dict[str, float] = {}

    def time_it(name: str, fn) -> float:  # noqa: ANN001
        with torch.no_grad():
            result = measure(fn, "cpu", config)
        results[name] = result.median_s or float("nan")
        print(f"{name}: {results[name] * 1e3:.1f} ms")
        return results[name]

    for size, x in feats.items():
        time_it(
            f"IFT matrix form {size}",
            lambda x=x: ift_transform(x, style, lam=lam, n_upd=n_upd, algorithm="matrix"),
        )
    time_it(
        "IFT direct form 512",
        lambda: ift_transform(feats[512], style, lam=lam, n_upd=n_upd, algorithm="direct"),
    )
    time_it(
        "IFT direct form 1024",
        lambda: ift_transform(feats[1024], style, lam=lam, n_upd=n_upd, algorithm="direct"),
    )
    time_it(
        "ZCA (float64 eigh) 512",
        lambda: zca_transform(feats[512], style, regularizer=1.0, reg_on="both", normalizer="N"),
    )
    ratio_size = results["IFT matrix form 1024"] / results["IFT matrix form 512"]
    ratio_zca = results["IFT matrix form 512"] / results["ZCA (float64 eigh) 512"]
    rows = [[name, f"{seconds * 1e3:.1f}"] for name, seconds in results.items()]
    text = "\n".join(
        [
            "Measured on a machine shared with other jobs; stylelab.bench.measure, "
            f"warm-up {config.warmup}, median of {config.repeats}, {args.threads} threads.",
            "Features: relu4_1 of a photo at 512x512 (64x64 positions) and 1024x1024 (128x128), style "
            "painting at 512x512; C = 512; channel-scale units.",
            "",
            markdown_table(["call", "median (ms)"], rows),
            "",
            markdown_table(
                ["target", "measured ratio", "target met"],
                [
                    ["IFT 1024 / IFT 512 <= 2", f"{ratio_size:.2f}", "yes" if ratio_size <= 2 else "no"],
                    ["IFT 512 / ZCA 512 <= 1", f"{ratio_zca:.2f}", "yes" if ratio_zca <= 1 else "no"],
                ],
            ),
            "",
            "Both ratios come from one run on a loaded shared CPU; they move by tens of percent between runs."
            " "
            "Cost model (multiply-adds): matrix form 2 C^2 n (K = F F^T and M F) + 15 x 3 C^3; direct form "
            "15 x 2 C^2 n; ZCA 3 C^2 n (two covariances and the colouring, float64) + two 512x512 eigh.",
            "",
        ]
    )
    report.add(text.rstrip("\n")).write()
    print(report.path.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
