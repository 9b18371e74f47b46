"""Markdown pieces of the reports: tables and the "paper vs ours" cells."""

from __future__ import annotations

from collections.abc import Sequence


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub Markdown table; cells are ``str()``-ed, ``|`` inside a cell is escaped.

    Args:
        header: Column titles.
        rows: One sequence of cells per row, each as long as ``header``.

    Returns:
        The table without a trailing newline.

    Raises:
        ValueError: A row has a different number of cells than the header.
    """
    for index, row in enumerate(rows):
        if len(row) != len(header):
            raise ValueError(f"row {index} has {len(row)} cells, the header {len(header)}: {list(row)!r}")
    lines = ["| " + " | ".join(_cell(c) for c in header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def ratio_cell(ours: float | None, paper: float | None, digits: int = 2) -> str:
    """``"1.27x"``: ours / paper, or ``"—"`` when either is missing or the paper's is zero."""
    if ours is None or paper is None or paper == 0:
        return "—"
    return f"{ours / paper:.{digits}f}x"


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")
