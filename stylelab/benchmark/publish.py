"""Publish a finished benchmark: copy its summary files into ``reports/`` and refresh the README's block.

``stylelab benchmark --config configs/benchmark/artistic.yaml --publish reports/benchmark/artistic`` copies
``results.csv``, ``results.md``, ``scatter.png``, ``latency.png`` and ``grid.jpg`` (never ``cells/``: the
per-pair outputs stay in the run folder) and, when ``README.md`` holds the markers::

    <!-- benchmark:artistic:begin -->
    <!-- benchmark:artistic:end -->

replaces what lies between them with the command that made the run, a compact quality table read from
``results.csv`` (the full table is in ``results.md``) and the image grid. Nothing in the README changes when
the markers are absent.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from stylelab.utils.io import atomic_save_text

#: Summary files of a run folder that are published (the ``cells/`` folder is not).
SUMMARY_FILES = ("results.csv", "results.md", "scatter.png", "latency.png", "grid.jpg")
#: Quality columns shown in the README (``results.md`` has all of them).
README_COLUMNS = (
    ("method", "method"),
    ("set", "set"),
    ("weights", "weights"),
    ("pairs ok", None),
    ("SSIM ↑", "ssim"),
    ("LPIPS", "lpips"),
    ("Gram ratio ↓", "gram_ratio"),
    ("mean/std ratio ↓", "mean_std_ratio"),
    ("ArtFID ↓", "artfid"),
)


def markers(name: str) -> tuple[str, str]:
    """The README markers of benchmark ``name``."""
    return f"<!-- benchmark:{name}:begin -->", f"<!-- benchmark:{name}:end -->"


def _cell(value: str) -> str:
    if value in ("", None):
        return "n/a"
    try:
        return f"{float(value):.3f}"
    except ValueError:
        return value


def readme_table(results_csv: Path) -> str:
    """A compact markdown table of the quality rows of ``results.csv`` (latency rows are skipped).

    Raises:
        FileNotFoundError: ``results_csv`` does not exist.
    """
    rows = list(csv.DictReader(io.StringIO(results_csv.read_text())))
    quality = [r for r in rows if r.get("kind", "quality") == "quality"]
    header = "| " + " | ".join(title for title, _ in README_COLUMNS) + " |"
    lines = [header, "|" + "---|" * len(README_COLUMNS)]
    for row in quality:
        cells = []
        for _, key in README_COLUMNS:
            if key is None:
                cells.append(f"{row.get('n_ok', '?')}/{row.get('n_cells', '?')}")
            elif key in ("method", "set", "weights"):
                cells.append(row.get(key, "") or "-")
            else:
                cells.append(_cell(row.get(key, "")))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def readme_block(name: str, dest: Path, command: str, readme_dir: Path) -> str:
    """The text between the README markers: command, table, links and the grid image."""
    relative = Path(*dest.resolve().relative_to(readme_dir.resolve()).parts)
    figures = [f"[{n}]({relative}/{n}.png)" for n in ("scatter", "latency") if (dest / f"{n}.png").is_file()]
    return "\n".join(
        [
            f"Made by `{command}`; full table with every metric's variant, device and commit: "
            f"[{relative}/results.md]({relative}/results.md)"
            + (f"; {', '.join(figures)}." if figures else "."),
            "",
            readme_table(dest / "results.csv"),
            "",
            f"![{name} grid: rows are pairs; columns content, style, then each method]({relative}/grid.jpg)",
        ]
    )


def update_readme(readme: Path, name: str, block: str) -> bool:
    """Replace the text between the markers of ``name`` in ``readme``; returns whether they were found.

    Raises:
        ValueError: Only one of the two markers is present, or they are in the wrong order.
    """
    if not readme.is_file():
        return False
    text = readme.read_text()
    begin, end = markers(name)
    has_begin, has_end = begin in text, end in text
    if not has_begin and not has_end:
        return False
    if has_begin != has_end or text.index(begin) > text.index(end):
        raise ValueError(f"{readme}: the markers {begin} / {end} must both be present, in this order")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    atomic_save_text(readme, f"{head}{begin}\n{block}\n{end}{tail}")
    return True


def publish(output: Path, dest: Path, name: str, command: str, readme: Path | None = None) -> list[Path]:
    """Copy the summary files of run folder ``output`` to ``dest``; refresh ``readme``'s block for ``name``.

    Args:
        output: The benchmark's run folder (holds ``results.csv`` ...).
        dest: Where the summary files go (e.g. ``reports/benchmark/artistic``).
        name: The benchmark's name (selects the README markers).
        command: The command line that made the run (written into the README block).
        readme: README to update (skipped when ``None`` or without the markers).

    Returns:
        The files written.

    Raises:
        FileNotFoundError: ``output`` holds no ``results.csv`` (the run did not finish).
    """
    if not (output / "results.csv").is_file():
        raise FileNotFoundError(f"{output}/results.csv not found: run the benchmark to its end first")
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name in SUMMARY_FILES:
        source = output / file_name
        if source.is_file() and source.resolve() != (dest / file_name).resolve():
            shutil.copyfile(source, dest / file_name)
            written.append(dest / file_name)
    if readme is not None and update_readme(readme, name, readme_block(name, dest, command, readme.parent)):
        written.append(readme)
    return written
