"""``stylelab benchmark``: latency of every registered method, measured in one run on one device.

Every method is timed by the same code path (:mod:`stylelab.bench`): warm-up, synchronisation, median of
repeats, batch 1 per resolution, peak memory, OOM cells, the device named in the table header.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from stylelab.bench import TimingConfig, TimingTable, latency
from stylelab.commands import Command, register_command


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--methods", nargs="+", default=["all"], help="short names, or 'all'")
    parser.add_argument("--sizes", nargs="+", type=int, default=[256, 512], help="square content sizes")
    parser.add_argument("--style-size", type=int, default=256, help="square style image size")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    parser.add_argument("--output", default=None, help="write the table here (.md or .csv)")


def run_benchmark(ns: argparse.Namespace) -> TimingTable:
    """Time ``stylize`` of each selected method; returns the filled table."""
    from stylelab.methods import METHODS

    names = sorted(METHODS) if ns.methods == ["all"] else ns.methods
    unknown = [n for n in names if n not in METHODS]
    if unknown:
        raise SystemExit(f"stylelab benchmark: unknown methods {unknown}; registered: {sorted(METHODS)}")
    config = TimingConfig(warmup=ns.warmup, repeats=ns.repeats, num_threads=ns.threads)
    table = TimingTable(
        "stylize latency, batch 1 (untrained weights where training is needed: time does not depend on them)",
        config=config,
        dtype="float32",
        notes=(f"style image {ns.style_size}x{ns.style_size}",),
    )
    generator = torch.Generator().manual_seed(0)
    style = torch.rand(1, 3, ns.style_size, ns.style_size, generator=generator).to(ns.device)
    for name in names:
        method = METHODS[name].for_benchmark().to(ns.device).eval()

        def run(content: torch.Tensor, method=method) -> torch.Tensor:
            return method.stylize(content, style)

        rows = latency(
            run,
            lambda b, h, w: torch.rand(b, 3, h, w, generator=generator),
            ns.sizes,
            ns.device,
            config,
            method=name,
            variant=method.variant(),
            progress=True,
        )
        table.extend(rows)
        del method
    return table


def _run(ns: argparse.Namespace, rest: list[str]) -> int:
    table = run_benchmark(ns)
    print(table.to_markdown())
    if ns.output:
        table.write(Path(ns.output))
        print(f"wrote {ns.output}")
    return 0


register_command(Command("benchmark", "time every registered method on one device", _add_arguments, _run))
