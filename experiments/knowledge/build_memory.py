"""Peak memory of building a library from one 1024x1024 image (issue target: under 4 GiB).

Runs ``stylelab library build`` in a child process per setting and reads the child's peak resident
set size (``getrusage(RUSAGE_CHILDREN).ru_maxrss``, so it includes Python, torch and the VGG
weights). Settings: the reference code's default (shorter side resized to 512) and the stress case
(native 1024x1024: 253 x 253 = 64,009 windows of 4,096 values before de-duplication; the code's
full similarity matrix would alone need 64,009^2 x 4 B = 15.3 GiB).

Writes ``reports/knowledge/build_memory.md``.
Run: ``STYLELAB_SHARED_DATA=... python experiments/knowledge/build_memory.py [--sizes 512 native]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common  # type: ignore[import-not-found]

from stylelab.reproduce.harness import header_lines
from stylelab.utils.io import atomic_save_text


def run(size: str, image: Path, root: Path, threads: int) -> tuple[float, float, str]:
    """Build in a fresh process; returns (peak RSS GiB, seconds, last output line)."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "STYLELAB_LIBRARIES": str(root)}
    command = [
        sys.executable,
        "-m",
        "stylelab",
        "library",
        "build",
        "--images",
        str(image),
        "--name",
        f"mem_{size}",
        "--style-size",
        size,
        "--quiet",
        "--force",
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak_kib <= before:  # ru_maxrss of children is the max over all children so far
        print("warning: an earlier child had a higher peak; run one size per invocation for exact numbers")
    return peak_kib / 2**20, seconds, done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", nargs="+", default=["512", "native"], help="--style-size values, run in order"
    )
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    image = common.shared_images() / "style" / "candy.jpg"  # 1024 x 1024
    lines = [
        "# Library build memory: one 1024x1024 image",
        "",
        *header_lines(f"--style-size {' '.join(args.sizes)}, {args.threads} threads"),
        "",
        f"{args.threads} threads; image "
        f"`{image.name}` (1024x1024); encoder relu3_1 (vgg_normalised), 4x4 windows, stride 1, NCC 0.9 "
        "(blockwise, 1024-row blocks), BHKM tree K = 10, depth 2 stored with the library.",
        "",
        "| --style-size | peak RSS of the process (GiB) | target | met | time (s) | result |",
        "|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as root:
        for size in args.sizes:  # peaks are monotone over children: run the small setting first
            peak, seconds, last = run(size, image, Path(root), args.threads)
            lines.append(
                f"| {size} | {peak:.2f} | < 4 GiB | {'yes' if peak < 4 else 'no'} | {seconds:.0f} | {last} |"
            )
            print(lines[-1], flush=True)
    lines += [
        "",
        "Peak RSS includes the interpreter, torch and the encoder weights. The reference code's "
        "per-image P x P cosine matrix would need 15.3 GiB at native size (P = 64,009).",
        "",
    ]
    atomic_save_text(common.REPORTS / "build_memory.md", "\n".join(lines))


if __name__ == "__main__":
    main()
