"""One benchmark run, end to end: plan the cells, run the missing ones, then tables, ArtFID and figures.

Example::

    config = load_config("configs/benchmark/quick.yaml")
    output = run_benchmark(config)        # outputs/benchmark/quick/results.{csv,md}, *.png, grid.jpg
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from stylelab.bench import device_description
from stylelab.benchmark.artfid import ArtInception, art_fid, resolve_inception
from stylelab.benchmark.config import BenchmarkConfig
from stylelab.benchmark.plots import image_grid, latency_plot, scatter_plot
from stylelab.benchmark.report import cells_budget, latency_row, quality_row, shorten, write_tables
from stylelab.benchmark.runner import (
    MethodCache,
    Pairs,
    build_pairs,
    first_line,
    plan,
    run_in_workers,
    run_latency_cell,
    worker_device,
)
from stylelab.benchmark.sets import load_rgb
from stylelab.benchmark.store import Cell, CellStore, slug


def run_benchmark(
    config: BenchmarkConfig, retry_marked: bool = False, progress: bool = True, command: str | None = None
) -> Path:
    """Run (or resume) ``config``; returns the output folder.

    Args:
        config: The benchmark.
        retry_marked: Also rerun cells stored with a mark (e.g. after a missing zoo file appeared).
        progress: Show progress bars (cells done and left).
        command: The command line, for the report header.
    """
    config = resolve_workers(config)
    output = config.output_dir()
    store = CellStore(output / "cells")
    pairs, missing_sets = build_pairs(config)
    cells = plan(config, pairs)
    todo = [c for c in cells if not store.finished(c, retry_marked)]
    print(
        f"benchmark {config.name}: {len(cells)} cells, {len(cells) - len(todo)} already done, "
        f"{len(todo)} to run"
    )
    run_in_workers(config, [c for c in todo if c.kind == "quality"], store, progress)
    latency_todo = [c for c in todo if c.kind == "latency"]
    if latency_todo:
        methods = MethodCache(config, worker_device(config, 0))
        for cell in tqdm(latency_todo, desc="latency cells", unit="cell", disable=not progress):
            store.save(cell, run_latency_cell(cell, methods.get(cell.method), config))
    rows = collect_rows(config, pairs, missing_sets, store)
    records = [r for r in (store.load(c) for c in cells) if r is not None]
    device = device_description(torch.device(worker_device(config, 0)))
    write_tables(rows, config, output, device, cells_budget(records, config.workers), command)
    scatter_plot(rows, output / "scatter.png")
    latency_plot(rows, output / "latency.png")
    write_grid(config, pairs, store, output / "grid.jpg")
    print(f"wrote {output}/results.csv, results.md, scatter.png, latency.png, grid.jpg")
    return output


def resolve_workers(config: BenchmarkConfig) -> BenchmarkConfig:
    """``workers: 0`` means one worker per visible GPU with ``device: cuda``, else one."""
    if config.workers != 0:
        return config
    count = torch.cuda.device_count() if config.device == "cuda" and torch.cuda.is_available() else 1
    return dataclasses.replace(config, workers=max(1, count))


def collect_rows(
    config: BenchmarkConfig, pairs: Pairs, missing_sets: dict[str, str], store: CellStore
) -> list[dict[str, Any]]:
    """Quality rows (with ArtFID) per method and set, then latency rows, from the stored cells."""
    rows: list[dict[str, Any]] = []
    for method in config.methods:
        for set_name, set_pairs in pairs.items():
            cells = [Cell("quality", method.key, set_name, i, p.pair_id) for i, p in enumerate(set_pairs)]
            records = [r for r in (store.load(c) for c in cells) if r is not None]
            row = quality_row(method.key, set_name, records, config)
            if set_name in missing_sets:
                row["note"] = missing_sets[set_name]
            if "artfid" in config.metrics:
                row.update(set_art_fid(config, pairs, store, method.key, set_name, cells, records))
                mark = row.pop("artfid_mark", None)
                row["note"] = "; ".join(filter(None, [row["note"], mark]))
            rows.append(row)
    for method in config.methods:
        for side in config.latency.sizes:
            record = store.load(Cell("latency", method.key, size=(side, side)))
            if record is not None:
                rows.append(latency_row(record))
    return rows


def set_art_fid(
    config: BenchmarkConfig,
    pairs: Pairs,
    store: CellStore,
    method: str,
    set_name: str,
    cells: list[Cell],
    records: list[dict[str, Any]],
) -> dict[str, Any]:
    """ArtFID of one method on one set from its stored outputs (cached in ``cells/artfid``).

    Returns:
        ``{"artfid", "fid", "artfid_lpips"}``, ``{"artfid_mark": why}`` when it cannot be computed, or
        ``{}`` when no cell of the method ran (their marks say why).
    """
    ok = [(c, r) for c, r in zip(cells, records, strict=False) if r.get("status") == "ok"]
    cache = Path("artfid", slug(set_name), slug(method) + ".json")
    cached = store.load_json(cache)
    if cached is not None and cached.get("pairs") == [c.pair_id for c, _ in ok]:
        return cached["row"]
    if not ok:  # nothing ran: the cells' own marks say why
        return {}
    try:
        if len(ok) < 2:
            raise ValueError(f"needs >= 2 stylised pairs, {len(ok)} ok")
        inception = ArtInception(resolve_inception(config.inception_weights))
    except (FileNotFoundError, ValueError) as error:
        return {"artfid_mark": shorten(f"artfid: n/a: {first_line(error)}")}
    from stylelab.data.image_io import load_image

    set_pairs = pairs[set_name]
    outputs = [load_image(store.image_path(c))[None] for c, _ in ok]
    contents = [load_rgb(set_pairs[c.pair_index].content, config.max_size) for c, _ in ok]
    styles = [load_rgb(set_pairs[c.pair_index].style, config.max_size) for c, _ in ok]
    values = art_fid(outputs, contents, styles, inception)
    row = {"artfid": values["artfid"], "fid": values["fid"], "artfid_lpips": values["lpips"]}
    store.save_json(cache, {"pairs": [c.pair_id for c, _ in ok], "row": row})
    return row


def write_grid(config: BenchmarkConfig, pairs: Pairs, store: CellStore, path: Path) -> None:
    """Rows: the first ``grid_pairs`` pairs of the first non-empty set; columns: content, style, methods."""
    from stylelab.data.image_io import load_image

    set_name = next((name for name, items in pairs.items() if items), None)
    if set_name is None:
        return
    rows = []
    for index, pair in enumerate(pairs[set_name][: config.grid_pairs]):
        images = [load_rgb(pair.content, config.max_size)[0], load_rgb(pair.style, config.max_size)[0]]
        for method in config.methods:
            image_file = store.image_path(Cell("quality", method.key, set_name, index, pair.pair_id))
            images.append(load_image(image_file) if image_file.is_file() else None)
        rows.append(images)
    image_grid(rows, ["content", "style", *[m.key for m in config.methods]], path)
