"""A JSON cache of expensive results, keyed by the parameters that produced them.

Experiments cache timings, trained runs and evaluations so that a report can be rewritten without
recomputing everything. A cached value is returned only for exactly the same parameters (canonical JSON
of the key), and the file is rewritten atomically after each new value, so an interrupted run keeps what it
finished.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from stylelab.utils.io import atomic_save_text


def cache_key(params: dict[str, Any]) -> str:
    """A short stable key of ``params``: sha256 of its canonical JSON (sorted keys), 16 hex digits.

    Raises:
        TypeError: A value is not JSON-serialisable.
    """
    text = json.dumps(params, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class JsonCache:
    """``{key: {"params": ..., "value": ...}}`` in one JSON file.

    Args:
        path: The cache file (created on the first :meth:`put`).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._entries: dict[str, Any] = json.loads(self.path.read_text()) if self.path.is_file() else {}

    def get(self, params: dict[str, Any]) -> Any | None:
        """The value cached for ``params``, or ``None``."""
        entry = self._entries.get(cache_key(params))
        return None if entry is None else entry["value"]

    def put(self, params: dict[str, Any], value: Any) -> None:
        """Store ``value`` (JSON-serialisable) for ``params`` and rewrite the file atomically."""
        self._entries[cache_key(params)] = {"params": params, "value": value}
        atomic_save_text(self.path, json.dumps(self._entries, indent=2, sort_keys=True) + "\n")

    def get_or_compute(self, params: dict[str, Any], compute: Callable[[], Any], fresh: bool = False) -> Any:
        """The cached value for ``params``, or ``compute()`` stored then returned (always when ``fresh``)."""
        value = None if fresh else self.get(params)
        if value is None:
            value = compute()
            self.put(params, value)
        return value


def write_csv_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write dict rows as CSV atomically (columns: union of keys in first-seen order; missing cells empty).

    Cells must not contain commas or newlines (numbers and short labels: per-step training logs).
    """
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    lines = [",".join(keys)] + [",".join(str(row.get(k, "")) for k in keys) for row in rows]
    atomic_save_text(path, "\n".join(lines) + "\n")


def read_csv_rows(path: Path) -> list[dict[str, Any]]:
    """Read :func:`write_csv_rows` output: numbers as floats, other cells as text, empty cells dropped."""
    lines = path.read_text().strip().splitlines()
    keys = lines[0].split(",")
    rows = []
    for line in lines[1:]:
        row: dict[str, Any] = {}
        for key, value in zip(keys, line.split(","), strict=True):
            if value == "":
                continue
            try:
                row[key] = float(value)
            except ValueError:
                row[key] = value
        rows.append(row)
    return rows


def write_dict_csv(path: Path, rows: Sequence[dict[str, Any]], fields: Sequence[str] | None = None) -> None:
    """Write dict rows atomically with :class:`csv.DictWriter` (cells with commas are quoted).

    Args:
        path: The CSV file.
        rows: At least one row.
        fields: The columns in order (a row's other keys are left out); default: the first row's keys.

    Raises:
        ValueError: ``rows`` is empty and ``fields`` is not given.
    """
    if fields is None:
        if not rows:
            raise ValueError(f"no rows to write to {path} and no columns given")
        fields = list(rows[0])
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    atomic_save_text(path, buffer.getvalue())
