"""One JSON file per finished cell, written atomically: a rerun skips what is already there (resume).

Layout under ``<output>/cells/``::

    quality/<set>/<method>/<pair>.json   (+ <pair>.png, the stylised output)
    latency/<method>/<H>x<W>.json
    artfid/<set>/<method>.json

A cell's ``status`` is ``"ok"`` or a mark (``"n/a: ..."``, ``"oom: ..."``, ``"error: ..."``); marked cells
count as finished unless the run is asked to retry them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stylelab.utils.io import atomic_save_text


def slug(text: str) -> str:
    """A file-name-safe version of ``text`` (letters, digits, ``._-`` kept; the rest ``_``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "_"


@dataclass(frozen=True)
class Cell:
    """One unit of work.

    Attributes:
        kind: ``"quality"`` (a method on one pair) or ``"latency"`` (a method at one resolution).
        method: Method column label.
        set_name: Evaluation set (quality cells).
        pair_index: Index of the pair in its set (quality cells).
        pair_id: The pair's id (quality cells).
        size: ``(H, W)`` (latency cells).
    """

    kind: str
    method: str
    set_name: str = ""
    pair_index: int = -1
    pair_id: str = ""
    size: tuple[int, int] = (0, 0)

    def relative_path(self) -> Path:
        """Path of the cell's JSON file below ``cells/``."""
        if self.kind == "quality":
            return Path("quality", slug(self.set_name), slug(self.method), slug(self.pair_id) + ".json")
        return Path("latency", slug(self.method), f"{self.size[0]}x{self.size[1]}.json")


class CellStore:
    """Reads and writes finished cells under ``root`` (``<output>/cells``)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, cell: Cell) -> Path:
        """The JSON file of ``cell``."""
        return self.root / cell.relative_path()

    def image_path(self, cell: Cell) -> Path:
        """The stylised output of a quality cell (PNG beside its JSON)."""
        return self.path(cell).with_suffix(".png")

    def load(self, cell: Cell) -> dict[str, Any] | None:
        """The stored record, or ``None`` if the cell has not finished."""
        path = self.path(cell)
        return json.loads(path.read_text()) if path.is_file() else None

    def finished(self, cell: Cell, retry_marked: bool = False) -> bool:
        """Whether ``cell`` is done (with ``retry_marked``: done *and* ``"ok"``)."""
        record = self.load(cell)
        return record is not None and (not retry_marked or record.get("status") == "ok")

    def save(self, cell: Cell, record: dict[str, Any]) -> None:
        """Write ``record`` atomically (a crash never leaves half a file)."""
        atomic_save_text(self.path(cell), json.dumps(record, indent=1, sort_keys=True) + "\n")

    def load_json(self, relative: str | Path) -> dict[str, Any] | None:
        """Any stored JSON below ``root`` (e.g. ``artfid/<set>/<method>.json``)."""
        path = self.root / relative
        return json.loads(path.read_text()) if path.is_file() else None

    def save_json(self, relative: str | Path, record: dict[str, Any]) -> None:
        """Write any JSON below ``root`` atomically."""
        atomic_save_text(self.root / relative, json.dumps(record, indent=1, sort_keys=True) + "\n")
