"""Train the IFT decoder blocks for a few CPU minutes on the shared photos (checkpoint for the reports).

    STYLELAB_SHARED_DATA=../shared/data python experiments/ift/train_decoder.py

Writes ``outputs/ift_cpu/checkpoints/last.ckpt``. Budget: configs/experiments/ift/cpu_small.yaml.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", default=os.environ.get("STYLELAB_SHARED_DATA"), help="shared data folder")
    parser.add_argument("--max-steps", type=int, default=None)
    args = parser.parse_args()
    if not args.shared:
        raise SystemExit("set STYLELAB_SHARED_DATA (or --shared) to the shared data folder")
    shared = Path(args.shared)
    os.environ.setdefault("STYLELAB_WEIGHTS", str(shared / "weights"))
    from stylelab.cli import main as cli

    argv = [
        "fit",
        "--config", str(REPO / "configs/ift.yaml"),
        "--config", str(REPO / "configs/experiments/ift/cpu_small.yaml"),
        f"--data.init_args.content.init_args.root={shared / 'images/photoreal_pairs/content'}",
        f"--data.init_args.style.init_args.root={shared / 'images/style'}",
        "--trainer.accelerator=cpu",
    ]  # fmt: skip
    if args.max_steps is not None:
        argv.append(f"--trainer.max_steps={args.max_steps}")
    start = time.perf_counter()
    os.chdir(REPO)
    cli(argv)
    print(f"trained in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
