"""Writing one report: the canonical header, Markdown blocks, tables and figures, all atomic.

A script states what is specific to its table and leaves the plumbing here::

    report = ReportWriter(REPORTS / "table1.md", "Table 1 — search time", budget="3 repeats, 1 thread")
    report.add("Nine libraries of one to three real style images ...")
    report.table(["approach", "paper s/image", "ours s/image"], rows)
    report.write()

The file appears only when :meth:`ReportWriter.write` finishes (:func:`stylelab.utils.io.atomic_write`): a
run that fails half-way leaves the previous report in place.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from stylelab.bench import device_description
from stylelab.reproduce.header import ReportHeader, command_line, format_header, git_commit, utc_now
from stylelab.reproduce.markdown import markdown_table
from stylelab.utils.io import atomic_save_bytes, atomic_save_text


def header_lines(
    budget: str | None,
    *,
    device: str | None = None,
    command: str | None = None,
    repo: Path | None = None,
    elapsed_s: float | None = None,
) -> list[str]:
    """The canonical header of a report written now, as Markdown list lines.

    Args:
        budget: What the run was allowed (steps, repeats...); ``None`` writes ``not recorded``.
        device: Defaults to :func:`machine_description` (call it while the run's thread count is set).
        command: Defaults to the running ``python <script> <args>``.
        repo: Folder whose git commit is recorded (default: the current folder).
        elapsed_s: Wall seconds the run took so far: appended to the budget as ``run took N s``.

    Returns:
        Five ``- key: value`` lines.
    """
    if elapsed_s is not None:
        took = f"run took {elapsed_s:.0f} s"
        budget = f"{budget}; {took}" if budget else took
    header = ReportHeader(
        date=utc_now(),
        device=device or machine_description(),
        commit=git_commit(repo),
        budget=budget,
        command=command or command_line(),
    )
    return format_header(header).splitlines()


def machine_description() -> str:
    """The CPU, torch's threads and version, the visible logical CPUs and Python, in one line.

    Returns:
        For example ``"CPU: AMD EPYC, 2 threads, torch 2.14.1; 2 logical CPUs visible; Python 3.11.7"``.
    """
    return (
        f"{device_description(torch.device('cpu'))}; {os.cpu_count()} logical CPUs visible; "
        f"Python {platform.python_version()}"
    )


class ReportWriter:
    """Collects a Markdown report and writes it atomically with the canonical header.

    Args:
        path: Destination, normally ``reports/<method>/<table>.md``.
        title: The ``# `` heading.
        budget: The run's budget for the header.
        device: See :func:`header_lines`.
        command: See :func:`header_lines`.
    """

    def __init__(
        self,
        path: Path,
        title: str,
        *,
        budget: str | None = None,
        device: str | None = None,
        command: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.title = title
        self.budget = budget
        self.device = device
        self.command = command
        self.blocks: list[str] = []
        self._started = time.perf_counter()

    def add(self, *blocks: str) -> ReportWriter:
        """Append Markdown blocks (paragraphs, lists); they are separated by blank lines."""
        self.blocks.extend(blocks)
        return self

    def section(self, title: str) -> ReportWriter:
        """Append a ``## `` heading."""
        return self.add(f"## {title}")

    def table(self, header: Sequence[str], rows: Sequence[Sequence[object]]) -> ReportWriter:
        """Append a Markdown table (:func:`stylelab.reproduce.markdown.markdown_table`)."""
        return self.add(markdown_table(header, rows))

    def figure(self, name: str, data: bytes | str, caption: str = "") -> Path:
        """Save a figure beside the report (atomic) and link it in the report.

        Args:
            name: File name in the report's folder (``fig6_scatter.svg``).
            data: The file's bytes, or SVG text.
            caption: Alt text of the link.

        Returns:
            The figure's path.
        """
        target = self.path.parent / name
        if isinstance(data, str):
            atomic_save_text(target, data)
        else:
            atomic_save_bytes(target, data)
        self.add(f"![{caption or name}]({name})")
        return target

    def render(self) -> str:
        """The report's text: title, header (with the wall time so far), blocks."""
        elapsed = time.perf_counter() - self._started
        head = header_lines(self.budget, device=self.device, command=self.command, elapsed_s=elapsed)
        return "\n\n".join([f"# {self.title}", "\n".join(head), *self.blocks]) + "\n"

    def write(self) -> Path:
        """Write the report atomically; returns its path."""
        atomic_save_text(self.path, self.render())
        return self.path
