"""Tables of a benchmark: ``results.csv`` and ``results.md``.

``results.csv`` has one row per method x set (quality) and per method x resolution (latency);
``results.md`` shows the same with the metric variants, sizes, device, commit and date in its header.

Quality rows hold the mean of each metric over the pairs whose cell is ``ok``; ``n_ok`` / ``n_cells``
say how many; ``note`` holds the marks (the first one per distinct reason, with its count).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stylelab.benchmark.config import BenchmarkConfig
from stylelab.benchmark.metrics import VARIANTS, metric_columns
from stylelab.reproduce.header import ReportHeader, format_header, git_commit, utc_now
from stylelab.utils.io import atomic_save_text

BASE_COLUMNS = ("kind", "method", "set", "resolution", "weights", "budget", "n_ok", "n_cells")
ARTFID_COLUMNS = ("artfid", "fid", "artfid_lpips")
LATENCY_COLUMNS = ("latency_s", "peak_memory_mb")


def columns(config: BenchmarkConfig) -> list[str]:
    """The CSV header."""
    extra = list(ARTFID_COLUMNS) if "artfid" in config.metrics else []
    return [*BASE_COLUMNS, *metric_columns(config.metrics), *extra, *LATENCY_COLUMNS, "note", "variant"]


MAX_MARK = 140


def shorten(mark: str, limit: int = MAX_MARK) -> str:
    """``mark`` cut to ``limit`` characters (with ``...``); the cell's JSON keeps the whole message."""
    return mark if len(mark) <= limit else mark[: limit - 3].rstrip() + "..."


def _notes(statuses: Sequence[str], metric_notes: Sequence[str]) -> str:
    marks = Counter(shorten(s) for s in statuses if s != "ok") + Counter(shorten(n) for n in metric_notes)
    return "; ".join(f"{mark} (x{count})" if count > 1 else mark for mark, count in marks.items())


def quality_row(
    method: str, set_name: str, records: list[dict[str, Any]], config: BenchmarkConfig
) -> dict[str, Any]:
    """Mean of every metric column over the ``ok`` records of one method on one set."""
    ok = [r for r in records if r.get("status") == "ok"]
    described = next((r for r in records if r.get("weights", "-") != "-"), records[0] if records else {})
    row: dict[str, Any] = {
        "kind": "quality",
        "method": method,
        "set": set_name,
        "weights": described.get("weights", "-"),
        "budget": described.get("budget", "-"),
        "variant": described.get("variant", "-"),
        "n_ok": len(ok),
        "n_cells": len(records),
        "commits": sorted({str(r.get("commit", "unknown")) for r in records}),
    }
    for column in metric_columns(config.metrics):
        values = [r["values"][column] for r in ok if r["values"].get(column) is not None]
        row[column] = sum(values) / len(values) if values else None
    metric_notes = [f"{name}: {note}" for r in ok for name, note in r.get("notes", {}).items()]
    row["note"] = _notes([r.get("status", "missing") for r in records], metric_notes)
    return row


def latency_row(record: dict[str, Any]) -> dict[str, Any]:
    """One latency cell as a row."""
    height, width = record["size"]
    peak = record.get("peak_memory_bytes")
    return {
        "kind": "latency",
        "method": record["method"],
        "resolution": f"{height}x{width}",
        "weights": record.get("weights", "-"),
        "budget": record.get("budget", "-"),
        "variant": record.get("variant", "-"),
        "n_ok": int(record.get("status") == "ok"),
        "n_cells": 1,
        "latency_s": record.get("median_s"),
        "peak_memory_mb": None if peak is None else peak / 2**20,
        "note": "" if record.get("status") == "ok" else shorten(record.get("status", "")),
    }


def _format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def to_csv(rows: list[dict[str, Any]], header: list[str]) -> str:
    """CSV text (floats with 6 significant digits, missing values empty)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_format(row.get(column)) for column in header])
    return buffer.getvalue()


def _cell(value: Any, mark: str = "n/a") -> str:
    if value is None or value == "":
        return mark
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def to_markdown(
    rows: list[dict[str, Any]],
    config: BenchmarkConfig,
    device: str,
    budget: str | None = None,
    command: str | None = None,
) -> str:
    """``results.md``: canonical header, variants and sizes, a quality table per set, latency.

    The header is the reports' canonical one (:mod:`stylelab.reproduce.header`: date, device, commit,
    budget, command), so ``reports/README.md`` reads it like every other report.
    """
    header = ReportHeader(utc_now(), device, git_commit() or "unknown", budget, command)
    lines = [
        f"# Benchmark `{config.name}`",
        "",
        format_header(header),
        f"- workers: {config.workers}",
        "- quality cells computed at commit(s): "
        + (", ".join(sorted({c for r in rows for c in r.get("commits", [])})) or "-"),
        f"- images: stylised with the longer side at most {config.max_size or 'native'} px; metrics at "
        f"{config.eval_size}x{config.eval_size} (antialiased bilinear resize); ArtFID at the output size",
        f"- latency: batch 1, random {config.latency.style_size}² style, {config.latency.warmup} warm-up, "
        f"median of {config.latency.repeats}",
        "- metric variants:",
        *[f"  - {name}: {VARIANTS[name].format(weights=config.cfsd_weights)}" for name in config.metrics],
        "",
        "A marked cell (`n/a`, `oom`, `error`) says why it has no value; `note` counts marked cells.",
    ]
    metrics = metric_columns(config.metrics) + (
        list(ARTFID_COLUMNS[:1]) if "artfid" in config.metrics else []
    )
    shown = [c for c in metrics if not c.endswith("_content_loss")]
    for set_name in dict.fromkeys(r["set"] for r in rows if r["kind"] == "quality"):
        lines += ["", f"## Quality: `{set_name}`", ""]
        lines.append("| method | weights | budget | pairs ok | " + " | ".join(shown) + " |")
        lines.append("|---" * (4 + len(shown)) + "|")
        set_rows = [r for r in rows if r["kind"] == "quality" and r["set"] == set_name]
        for row in set_rows:
            values = " | ".join(_cell(row.get(c)) for c in shown)
            lines.append(
                f"| {row['method']} | {row['weights']} | {row['budget']} | {row['n_ok']}/{row['n_cells']} | "
                f"{values} |"
            )
        marked = [f"- `{r['method']}`: {r['note']}" for r in set_rows if r["note"]]
        lines += ["", "Marks (n/a cells and why):", "", *marked] if marked else []
    latency_rows = [r for r in rows if r["kind"] == "latency"]
    if latency_rows:
        lines += [
            "",
            "## Latency and peak memory",
            "",
            "| method | resolution | median ms | peak MiB | note |",
        ]
        lines.append("|---|---|---|---|---|")
        for row in latency_rows:
            ms = None if row["latency_s"] is None else row["latency_s"] * 1000
            lines.append(
                f"| {row['method']} | {row['resolution']} | {_cell(ms)} | {_cell(row['peak_memory_mb'])} | "
                f"{row['note']} |"
            )
    variants = {r["method"]: r["variant"] for r in rows if r.get("variant", "-") != "-"}
    lines += ["", "## Methods", "", *[f"- `{m}`: {v}" for m, v in variants.items()], ""]
    return "\n".join(lines)


def write_tables(
    rows: list[dict[str, Any]],
    config: BenchmarkConfig,
    output: Path,
    device: str,
    budget: str | None = None,
    command: str | None = None,
) -> None:
    """Write ``results.csv`` and ``results.md`` atomically (``budget``, ``command``: header fields)."""
    atomic_save_text(output / "results.csv", to_csv(rows, columns(config)))
    atomic_save_text(output / "results.md", to_markdown(rows, config, device, budget, command))


def cells_budget(records: Sequence[dict[str, Any]], workers: int) -> str:
    """What a run took: cell counts and the summed per-cell seconds over every (resumed) run."""
    quality = [r for r in records if r.get("kind") == "quality"]
    seconds = sum(float(r.get("seconds") or 0.0) for r in quality)
    return (
        f"{len(quality)} quality cells ({seconds / 60:.1f} min of stylisation and metrics summed over "
        f"cells and resumed runs), {len(records) - len(quality)} latency cells; {workers} worker(s)"
    )
