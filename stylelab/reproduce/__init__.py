"""Reproducing the papers' tables: the shared experiment harness and the reproduction index.

* :mod:`.harness` — :class:`ReportWriter`: a report with the canonical header, tables, figures, atomic.
* :mod:`.header` — the header's fields (date, device, commit, budget, command): format and parse.
* :mod:`.markdown` — Markdown tables and "ours/paper" cells.
* :mod:`.images` — the shared photos and paintings: folder, loading, square crops.
* :mod:`.cache` — a JSON cache keyed by parameters.
* :mod:`.timing` — wall and CPU time of a whole run (per-call timing is :mod:`stylelab.bench`).
* :mod:`.index` — every regenerable table and figure, keyed ``<method>/<table>``.
* :mod:`.provenance`, :mod:`.readme` — the "last run" of a report and ``reports/README.md``.
* :mod:`.commands` — ``stylelab reproduce``.
"""

from stylelab.reproduce.cache import JsonCache, cache_key
from stylelab.reproduce.harness import ReportWriter, header_lines, machine_description
from stylelab.reproduce.header import ReportHeader, format_header, parse_header
from stylelab.reproduce.index import ENTRIES, ENTRIES_LIST, Entry, get_entry
from stylelab.reproduce.markdown import markdown_table, ratio_cell
from stylelab.reproduce.readme import render_reports_readme, write_reports_readme
from stylelab.reproduce.timing import Stopwatch

__all__ = [
    "ENTRIES",
    "ENTRIES_LIST",
    "Entry",
    "JsonCache",
    "ReportHeader",
    "ReportWriter",
    "Stopwatch",
    "cache_key",
    "format_header",
    "get_entry",
    "header_lines",
    "machine_description",
    "markdown_table",
    "parse_header",
    "ratio_cell",
    "render_reports_readme",
    "write_reports_readme",
]
