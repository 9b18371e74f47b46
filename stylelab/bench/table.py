"""Speed tables: collect :class:`~stylelab.bench.result.Row` objects, render Markdown or CSV.

Example:
    >>> table = TimingTable("AdaIN latency", config=config)
    >>> for row in latency(model, make_input, [256, 512], "cuda", config, method="adain"):
    ...     table.add(row, paper=PAPER_SECONDS.get(row.resolution))
    >>> table.write("results/adain_latency.md")
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import torch

from stylelab.bench.result import Row
from stylelab.bench.timing import TimingConfig
from stylelab.utils.io import atomic_save_text

OOM = "OOM"
_MISSING = "n/a"
_EMPTY = "—"
_MIB = 1024.0 * 1024.0

CSV_COLUMNS = (
    "method", "variant", "kind", "height", "width", "batch", "status",
    "median_s", "p25_s", "p75_s", "iqr_s", "min_s", "mean_s", "repeats", "warmup", "images_per_s",
    "peak_memory_bytes", "baseline_memory_bytes", "paper", "ours_over_paper",
    "dtype", "num_threads", "timer", "device", "torch", "error",
)  # fmt: skip


class TimingTable:
    """Rows of one speed table, rendered as Markdown (for READMEs) or CSV (for analysis).

    Markdown shows times in milliseconds; ``OOM`` replaces the numbers of a call that ran out of
    memory; the paper's number sits beside ours with ``ours/paper``. A header line names the device,
    torch version, thread count, dtype and timing settings.

    Args:
        title: Heading of the Markdown table; empty for none.
        config: The settings used, named in the header; taken from the rows if None.
        dtype: Data type to name in the header; the rows' input dtypes if None.
        notes: Extra lines printed under the Markdown table.
    """

    def __init__(
        self,
        title: str = "",
        *,
        config: TimingConfig | None = None,
        dtype: torch.dtype | str | None = None,
        notes: Sequence[str] = (),
    ) -> None:
        """Create an empty table."""
        self.title = title
        self.config = config
        self.dtype = str(dtype).removeprefix("torch.") if dtype is not None else None
        self.notes = list(notes)
        self.rows: list[Row] = []

    def add(
        self,
        row: Row,
        *,
        method: str | None = None,
        variant: str | None = None,
        paper: float | None = None,
    ) -> Row:
        """Append ``row``, optionally relabelled and with the paper's number.

        Args:
            row: A row from :func:`~stylelab.bench.timing.latency` or
                :func:`~stylelab.bench.timing.throughput`.
            method: Replaces ``row.method`` if given.
            variant: Replaces ``row.variant`` if given.
            paper: The paper's number (seconds per call for latency rows, images per second for
                throughput rows); replaces ``row.paper`` if given.

        Returns:
            The row as stored.
        """
        changes: dict[str, object] = {}
        if method is not None:
            changes["method"] = method
        if variant is not None:
            changes["variant"] = variant
        if paper is not None:
            changes["paper"] = paper
        stored = replace(row, **changes) if changes else row
        self.rows.append(stored)
        return stored

    def extend(self, rows: Iterable[Row], *, method: str | None = None, variant: str | None = None) -> None:
        """Append several rows, optionally relabelled (see :meth:`add`)."""
        for row in rows:
            self.add(row, method=method, variant=variant)

    def header_line(self) -> str:
        """One line naming device, torch, threads, dtype and timing settings."""
        results = [row.result for row in self.rows]
        devices = _distinct(result.device_name for result in results) or _MISSING
        threads = _distinct(str(result.num_threads) for result in results if result.num_threads) or str(
            torch.get_num_threads()
        )
        dtype = self.dtype or _distinct(row.dtype for row in self.rows if row.dtype) or _MISSING
        timers = _distinct(result.timer for result in results if result.timer) or _MISSING
        if self.config is not None:
            warmup, repeats = str(self.config.warmup), str(self.config.repeats)
            min_time = f", min time {self.config.min_time_s:g} s" if self.config.min_time_s else ""
        else:
            warmup = _distinct(str(result.warmup) for result in results) or _MISSING
            repeats = _distinct(str(result.repeats) for result in results if not result.oom) or _MISSING
            min_time = ""
        return (
            f"Device: {devices} | torch {torch.__version__} | threads: {threads} | dtype: {dtype} | "
            f"timer: {timers} | warm-up {warmup}, repeats {repeats}{min_time}; median, spread = IQR"
        )

    def to_markdown(self) -> str:
        """Render the table as GitHub Markdown (header line, table, notes)."""
        columns = self._markdown_columns()
        lines = [f"### {self.title}", ""] if self.title else []
        lines += [self.header_line(), ""]
        lines.append("| " + " | ".join(name for name, _ in columns) + " |")
        lines.append("|" + "|".join("---" for _ in columns) + "|")
        for row in self.rows:
            cells = (_escape(cell(row)) for _, cell in columns)
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", *self._footnotes()]
        return "\n".join(lines).rstrip() + "\n"

    def to_csv(self) -> str:
        """Render every row with full-precision numbers (seconds, bytes) as CSV with a header."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in self.rows:
            writer.writerow(_csv_record(row))
        return buffer.getvalue()

    def write(self, path: str | os.PathLike[str], fmt: str | None = None) -> None:
        """Write the table atomically.

        Args:
            path: Destination; ``.md``/``.markdown`` gives Markdown, ``.csv`` gives CSV.
            fmt: ``"markdown"`` or ``"csv"`` to override the suffix.

        Raises:
            ValueError: The format is neither given nor known from the suffix.
        """
        suffix = Path(path).suffix.lower()
        fmt = fmt or {".md": "markdown", ".markdown": "markdown", ".csv": "csv"}.get(suffix)
        if fmt == "markdown":
            atomic_save_text(path, self.to_markdown())
        elif fmt == "csv":
            atomic_save_text(path, self.to_csv())
        else:
            raise ValueError(
                f"Cannot tell the table format of {os.fspath(path)!r}; use a .md or .csv suffix "
                "or pass fmt='markdown' / fmt='csv'."
            )

    def _markdown_columns(self) -> list[tuple[str, Callable[[Row], str]]]:
        """Column names and cell formatters; label and paper columns only when used."""
        columns: list[tuple[str, Callable[[Row], str]]] = []
        if any(row.method for row in self.rows):
            columns.append(("method", lambda row: row.method))
        if any(row.variant for row in self.rows):
            columns.append(("variant", lambda row: row.variant))
        columns += [
            ("kind", lambda row: row.kind),
            ("resolution (HxW)", lambda row: f"{row.resolution[0]}x{row.resolution[1]}"),
            ("batch", lambda row: str(row.batch)),
            ("median (ms)", lambda row: _ms(row, row.result.median_s)),
            ("IQR (ms)", lambda row: _ms(row, row.result.iqr_s)),
            ("images/s", lambda row: OOM if row.result.oom else _number(row.images_per_s)),
            ("peak memory (MiB)", _memory_cell),
        ]
        if any(row.paper is not None for row in self.rows):
            columns += [("paper", _paper_cell), ("ours/paper", _ratio_cell)]
        return columns

    def _footnotes(self) -> list[str]:
        """Lines under the table: what the columns mean, notes, out-of-memory messages."""
        lines = ["Peak memory: above the memory held before the timed calls (weights and inputs excluded)."]
        if any(row.paper is not None for row in self.rows):
            lines.append(
                "ours/paper: for latency < 1 means faster than the paper; for throughput > 1 means faster."
            )
        lines += self.notes
        lines += _distinct_list(note for row in self.rows for note in row.result.notes)
        return [f"- {line}" for line in lines]


def _ms(row: Row, seconds: float | None) -> str:
    """A time cell in milliseconds, ``OOM`` for an out-of-memory row."""
    if row.result.oom:
        return OOM
    return _number(None if seconds is None else seconds * 1e3)


def _memory_cell(row: Row) -> str:
    """Peak memory in MiB, ``OOM`` or ``n/a``."""
    if row.result.oom:
        return OOM
    peak = row.result.peak_memory_bytes
    return _MISSING if peak is None else f"{peak / _MIB:.1f}"


def _paper_cell(row: Row) -> str:
    """The paper's number with its unit (ms for latency, img/s for throughput)."""
    if row.paper is None:
        return _EMPTY
    if row.kind == "latency":
        return f"{_number(row.paper * 1e3)} ms"
    return f"{_number(row.paper)} img/s"


def _ratio_cell(row: Row) -> str:
    """``ours/paper`` as ``1.23x``."""
    return _EMPTY if row.ratio is None else f"{row.ratio:.2f}x"


def _number(value: float | None) -> str:
    """Three significant figures without scientific notation; ``—`` for None."""
    if value is None:
        return _EMPTY
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _csv_record(row: Row) -> list[str]:
    """One CSV line in :data:`CSV_COLUMNS` order; empty fields for missing values."""
    result = row.result
    values: dict[str, object] = {
        "method": row.method,
        "variant": row.variant,
        "kind": row.kind,
        "height": row.resolution[0],
        "width": row.resolution[1],
        "batch": row.batch,
        "status": OOM if result.oom else "ok",
        "median_s": result.median_s,
        "p25_s": result.p25_s,
        "p75_s": result.p75_s,
        "iqr_s": result.iqr_s,
        "min_s": result.min_s,
        "mean_s": result.mean_s,
        "repeats": result.repeats,
        "warmup": result.warmup,
        "images_per_s": row.images_per_s,
        "peak_memory_bytes": result.peak_memory_bytes,
        "baseline_memory_bytes": result.baseline_memory_bytes,
        "paper": row.paper,
        "ours_over_paper": row.ratio,
        "dtype": row.dtype,
        "num_threads": result.num_threads,
        "timer": result.timer,
        "device": result.device_name,
        "torch": torch.__version__,
        "error": result.error,
    }
    return ["" if values[name] is None else str(values[name]) for name in CSV_COLUMNS]


def _distinct_list(values: Iterable[str | None]) -> list[str]:
    """Values in first-seen order without repeats or empties."""
    return list(dict.fromkeys(value for value in values if value))


def _distinct(values: Iterable[str | None]) -> str:
    """Distinct values joined with ``"; "`` (empty string when there are none)."""
    return "; ".join(_distinct_list(values))


def _escape(cell: str) -> str:
    """Keep a cell from breaking the Markdown table."""
    return cell.replace("|", "\\|").replace("\n", " ")
