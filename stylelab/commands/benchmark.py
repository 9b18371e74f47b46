"""``stylelab benchmark``: quality and latency of methods on evaluation sets (``--config``), or latency only.

``stylelab benchmark --config configs/benchmark/quick.yaml [--workers N] [--output DIR]`` runs methods x
evaluation sets x metrics plus latency per resolution (:mod:`stylelab.benchmark`) and writes
``results.csv``, ``results.md``, ``scatter.png``, ``latency.png`` and ``grid.jpg``; a rerun resumes.
``--publish reports/benchmark/<name>`` copies those files there and refreshes the README's table and grid
(:mod:`stylelab.benchmark.publish`).

Without ``--config`` it times every selected method by the same code path (:mod:`stylelab.bench`):
warm-up, synchronisation, median of repeats, batch 1 per resolution, peak memory, OOM cells, the device
named in the table header.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from stylelab.bench import TimingConfig, TimingTable, latency
from stylelab.commands import Command, register_command


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", default=None, help="benchmark YAML (configs/benchmark/*.yaml): quality run"
    )
    parser.add_argument("--workers", type=int, default=None, help="with --config: worker processes")
    parser.add_argument(
        "--retry-marked", action="store_true", help="with --config: rerun cells stored with a mark (n/a, oom)"
    )
    parser.add_argument("--no-progress", action="store_true", help="with --config: no progress bar")
    parser.add_argument(
        "--publish",
        default=None,
        metavar="DIR",
        help="with --config: copy the summary files (not cells/) to DIR and refresh README.md's "
        "<!-- benchmark:NAME:begin/end --> block",
    )
    parser.add_argument("--methods", nargs="+", default=["all"], help="short names, or 'all'")
    parser.add_argument("--sizes", nargs="+", type=int, default=[256, 512], help="square content sizes")
    parser.add_argument("--style-size", type=int, default=256, help="square style image size")
    parser.add_argument("--device", default=None, help="torch device (default: cuda if available, else cpu)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    parser.add_argument(
        "--output", default=None, help="latency table file (.md or .csv); with --config: the output folder"
    )


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


def _command_line(ns: argparse.Namespace) -> str:
    """The ``stylelab benchmark --config ...`` line that reproduces this run (for headers and the README)."""
    import shlex

    argv = ["stylelab", "benchmark", "--config", ns.config]
    for flag, value in (("--workers", ns.workers), ("--output", ns.output), ("--device", ns.device)):
        argv += [flag, str(value)] if value is not None else []
    return shlex.join([*argv, *(["--publish", ns.publish] if ns.publish else [])])


def _run_config(ns: argparse.Namespace) -> int:
    from stylelab.benchmark.config import ConfigError, load_config
    from stylelab.benchmark.run import run_benchmark as run_quality_benchmark

    try:
        config = load_config(ns.config, workers=ns.workers, output=ns.output, device=ns.device)
    except (ConfigError, FileNotFoundError) as error:
        raise SystemExit(f"stylelab benchmark: {error}") from None
    command = _command_line(ns)
    output = run_quality_benchmark(
        config, retry_marked=ns.retry_marked, progress=not ns.no_progress, command=command
    )
    print((output / "results.md").read_text())
    if ns.publish:
        from stylelab.benchmark.publish import publish

        for path in publish(output, Path(ns.publish), config.name, command, readme=Path("README.md")):
            print(f"published {path}")
    return 0


def _run(ns: argparse.Namespace, rest: list[str]) -> int:
    if ns.config is not None:
        return _run_config(ns)
    if ns.device is None:
        ns.device = "cuda" if torch.cuda.is_available() else "cpu"
    table = run_benchmark(ns)
    print(table.to_markdown())
    if ns.output:
        table.write(Path(ns.output))
        print(f"wrote {ns.output}")
    return 0


register_command(
    Command(
        "benchmark",
        "quality x latency of methods on evaluation sets (--config), or latency only",
        _add_arguments,
        _run,
    )
)
