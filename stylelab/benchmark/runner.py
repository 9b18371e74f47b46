"""Runs the cells of a benchmark: quality cells (in one or several worker processes), then latency cells.

Every cell is independent and seeded, so the stored results do not depend on how many workers ran
them or in which order; a cell that raises is stored as a marked cell and the run goes on. Cells already
stored are skipped (resume). Latency cells run last, one at a time, in the main process, so that no
other cell competes with them for the device.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from stylelab.bench import TimingConfig, is_out_of_memory, latency
from stylelab.benchmark.config import BenchmarkConfig, MethodEntry
from stylelab.benchmark.methods import BenchMethod, MethodUnavailable, PairNotApplicable
from stylelab.benchmark.metrics import cell_metrics
from stylelab.benchmark.sets import EvalPair, build_set, load_labels, load_rgb
from stylelab.benchmark.store import Cell, CellStore

Pairs = dict[str, list[EvalPair]]


def first_line(error: BaseException) -> str:
    """``"<Type>: <first line of the message>"``."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}".strip()


def build_pairs(config: BenchmarkConfig) -> tuple[Pairs, dict[str, str]]:
    """The pairs of every set, and a mark for each set that could not be built (missing data)."""
    pairs: Pairs = {}
    missing: dict[str, str] = {}
    for entry in config.sets:
        try:
            pairs[entry.name] = build_set(entry, config.max_pairs)
        except (FileNotFoundError, ValueError) as error:
            pairs[entry.name] = []
            missing[entry.name] = f"n/a: {first_line(error)}"
    return pairs, missing


def plan(config: BenchmarkConfig, pairs: Pairs) -> list[Cell]:
    """Every cell: quality cells (method-major, then set, then pair), then latency cells."""
    cells = [
        Cell("quality", method.key, set_name, index, pair.pair_id)
        for method in config.methods
        for set_name, set_pairs in pairs.items()
        for index, pair in enumerate(set_pairs)
    ]
    cells += [Cell("latency", m.key, size=(s, s)) for m in config.methods for s in config.latency.sizes]
    return cells


class MethodCache:
    """Builds each method once per process; a method that cannot be built is remembered as its error."""

    def __init__(self, config: BenchmarkConfig, device: str) -> None:
        self.entries: dict[str, MethodEntry] = {m.key: m for m in config.methods}
        self.device = device
        self._built: dict[str, BenchMethod | MethodUnavailable] = {}

    def get(self, key: str) -> BenchMethod | MethodUnavailable:
        """The built method, or the :class:`MethodUnavailable` that building it raised."""
        if key not in self._built:
            self._built.clear()  # cells are method-major: keep one model in memory at a time
            try:
                self._built[key] = BenchMethod(self.entries[key], self.device)
            except MethodUnavailable as error:
                self._built[key] = error
        return self._built[key]


def _method_fields(method: BenchMethod | MethodUnavailable) -> dict[str, Any]:
    if isinstance(method, MethodUnavailable):
        return {"weights": "-", "budget": "-", "variant": "-"}
    return {"weights": method.info.weights, "budget": method.info.budget, "variant": method.info.variant}


def run_quality_cell(
    cell: Cell,
    pair: EvalPair,
    method: BenchMethod | MethodUnavailable,
    config: BenchmarkConfig,
    store: CellStore,
    commit: str = "unknown",
) -> dict[str, Any]:
    """Stylise one pair, compute its metrics, store the record (and the output PNG); returns the record."""
    from stylelab.data.image_io import save_image

    record: dict[str, Any] = {
        "kind": "quality",
        "method": cell.method,
        "set": cell.set_name,
        "pair": cell.pair_id,
        "content": pair.content,
        "style": pair.style,
        "commit": commit,
        **_method_fields(method),
    }
    start = time.perf_counter()
    if isinstance(method, MethodUnavailable):
        record["status"] = f"n/a: {method}"
    else:
        torch.manual_seed(config.seed)
        try:
            device = method.model.device if hasattr(method.model, "device") else config.device
            content = load_rgb(pair.content, config.max_size).to(device)
            style = load_rgb(pair.style, config.max_size).to(device)
            masks = [load_labels(p, x) for p, x in ((pair.content_mask, content), (pair.style_mask, style))]
            output = method.stylize(content, style, *(m if m is None else m.to(device) for m in masks))
        except PairNotApplicable as error:
            record["status"] = str(error)
        except (RuntimeError, MemoryError) as error:
            record["status"] = ("oom: " if is_out_of_memory(error) else "error: ") + first_line(error)
        except Exception as error:  # noqa: BLE001 - a failing cell is marked, never a crash
            record["status"] = f"error: {first_line(error)}"
        else:
            values, notes = cell_metrics(
                output, content, style, config.metrics, config.eval_size, config.cfsd_weights
            )
            save_image(output[0].float().cpu().clamp(0, 1), store.image_path(cell))
            record.update(status="ok", values=values, notes=notes, size=list(output.shape[-2:]))
    record["seconds"] = time.perf_counter() - start
    store.save(cell, record)
    return record


def run_quality_cells(
    config: BenchmarkConfig,
    cells: Iterable[Cell],
    store_root: str | Path,
    device: str | None = None,
    on_done: Callable[[Cell], None] | None = None,
) -> None:
    """Run quality cells in this process (also the entry point of a worker process)."""
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    from stylelab.reproduce.header import git_commit

    store = CellStore(store_root)
    pairs, _ = build_pairs(config)
    methods = MethodCache(config, device or config.device)
    commit = git_commit() or "unknown"
    for cell in cells:
        pair = pairs[cell.set_name][cell.pair_index]
        run_quality_cell(cell, pair, methods.get(cell.method), config, store, commit)
        if on_done is not None:
            on_done(cell)


def worker_device(config: BenchmarkConfig, index: int) -> str:
    """The device of worker ``index``: ``cuda`` workers spread over the visible GPUs, else the config's."""
    if config.device == "cuda" and torch.cuda.is_available():
        return f"cuda:{index % torch.cuda.device_count()}"
    return config.device


def run_in_workers(config: BenchmarkConfig, cells: list[Cell], store: CellStore, progress: bool) -> None:
    """Quality cells split round-robin over ``config.workers`` processes (spawned); a bar polls the store."""
    bar = tqdm(total=len(cells), desc="benchmark cells", unit="cell", disable=not progress)
    if config.workers == 1 or len(cells) <= 1:
        run_quality_cells(config, cells, store.root, worker_device(config, 0), on_done=lambda _: bar.update())
        bar.close()
        return
    context = multiprocessing.get_context("spawn")
    shares = [cells[i :: config.workers] for i in range(config.workers)]
    workers = [
        context.Process(
            target=run_quality_cells, args=(config, share, str(store.root), worker_device(config, i))
        )
        for i, share in enumerate(shares)
        if share
    ]
    for worker in workers:
        worker.start()
    while any(w.is_alive() for w in workers):
        time.sleep(0.5)
        bar.update(sum(store.finished(c) for c in cells) - bar.n)
    bar.update(sum(store.finished(c) for c in cells) - bar.n)
    bar.close()
    failed = [w.exitcode for w in workers if w.exitcode != 0]
    if failed:
        raise RuntimeError(f"{len(failed)} benchmark worker(s) exited with codes {failed}; rerun to resume")


def _latency_inputs(method: BenchMethod, config: BenchmarkConfig) -> Callable[[torch.Tensor], torch.Tensor]:
    generator = torch.Generator().manual_seed(config.seed)
    side = config.latency.style_size
    style = torch.rand(1, 3, side, side, generator=generator).to(method.model.device)
    if method.info.method == "stylebank":  # fixed styles: time its first bank
        return lambda content: method.model.stylize(content, styles=[0])
    return lambda content: method.model.stylize(content, style, **method.kwargs)


def run_latency_cell(
    cell: Cell, method: BenchMethod | MethodUnavailable, config: BenchmarkConfig
) -> dict[str, Any]:
    """Median seconds and peak memory of one stylisation at ``cell.size`` (batch 1, random images)."""
    record: dict[str, Any] = {"kind": "latency", "method": cell.method, "size": list(cell.size)}
    record.update(_method_fields(method))
    if isinstance(method, MethodUnavailable):
        return record | {"status": f"n/a: {method}"}
    timing = TimingConfig(config.latency.warmup, config.latency.repeats, config.latency.threads)
    generator = torch.Generator().manual_seed(config.seed)
    try:
        row = latency(
            _latency_inputs(method, config),
            lambda b, h, w: torch.rand(b, 3, h, w, generator=generator),
            [cell.size],
            method.model.device,
            timing,
            method=cell.method,
        )[0]
    except Exception as error:  # noqa: BLE001 - marked, never a crash
        return record | {"status": f"error: {first_line(error)}"}
    result = row.result
    if result.oom:
        return record | {"status": f"oom: {(result.error or '').splitlines()[0] if result.error else ''}"}
    return record | {
        "status": "ok",
        "median_s": result.median_s,
        "peak_memory_bytes": result.peak_memory_bytes,
        "device_name": result.device_name,
        "num_threads": result.num_threads,
    }
