"""``stylelab reproduce list | index | <method>/<table> [script arguments]``.

``list`` prints the reproduction index with each entry's last run; ``index`` regenerates
``reports/README.md``; a key runs the entry's script from the repository root (its default arguments unless
others follow the key; put ``--`` before arguments that ``stylelab reproduce`` itself would take, such as
``--help``), then regenerates ``reports/README.md``.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

from stylelab.commands import Command, register_command
from stylelab.reproduce.index import ENTRIES_LIST, Entry, UnknownEntryError, find_checkout, get_entry
from stylelab.reproduce.markdown import markdown_table
from stylelab.reproduce.provenance import NOT_RECORDED, last_commits, provenance
from stylelab.reproduce.readme import write_reports_readme

#: Longest device description in ``list`` (the full one is in the report and reports/README.md).
_DEVICE_CHARS = 48


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", help="list | index | <method>/<table> (see `stylelab reproduce list`)")
    parser.add_argument("--method", default=None, help="list: only this method's entries")
    parser.add_argument("--markdown", action="store_true", help="list: a Markdown table")
    parser.add_argument("--dry-run", action="store_true", help="<key>: print the command, run nothing")
    parser.add_argument("--no-index", action="store_true", help="<key>: leave reports/README.md as it is")


def _run(args: argparse.Namespace, rest: list[str]) -> int:
    try:
        repo = find_checkout()
        if args.target == "list":
            print(render_list(repo, args.method, markdown=args.markdown))
            return 0
        if args.target == "index":
            print(f"wrote {write_reports_readme(repo)}")
            return 0
        entry = get_entry(args.target)
    except (FileNotFoundError, UnknownEntryError) as exc:
        print(f"stylelab reproduce: {exc.args[0]}", file=sys.stderr)
        return 2
    extra = rest[1:] if rest[:1] == ["--"] else rest
    return run_entry(entry, repo, extra, dry_run=args.dry_run, update_index=not args.no_index)


def run_entry(
    entry: Entry, repo: Path, extra: list[str], dry_run: bool = False, update_index: bool = True
) -> int:
    """Run ``entry``'s script from ``repo`` and regenerate ``reports/README.md`` when it succeeds.

    Args:
        entry: The index entry.
        repo: The repository root (the scripts' working directory).
        extra: Arguments replacing the entry's default ones (empty: the defaults).
        dry_run: Only print the command.
        update_index: Regenerate ``reports/README.md`` after a successful run.

    Returns:
        The script's exit status.
    """
    argv = entry.argv(extra)
    print(f"[{entry.key}] {shlex.join(argv)}  (in {repo})", flush=True)
    if dry_run:
        return 0
    code = subprocess.run(argv, cwd=repo, check=False).returncode
    if code != 0:
        print(
            f"[{entry.key}] failed with exit status {code}; reports/README.md left as it was", file=sys.stderr
        )
        return code
    written = [r for r in entry.reports if (repo / r).is_file()]
    print(f"[{entry.key}] reports: {', '.join(written) or 'none'}")
    if update_index:
        print(f"[{entry.key}] wrote {write_reports_readme(repo)}")
    return 0


def render_list(repo: Path, method: str | None = None, markdown: bool = False) -> str:
    """The index as text (aligned columns) or Markdown: method, key, paper, budget, last run.

    Args:
        repo: The repository root.
        method: Only entries of this method.
        markdown: A Markdown table instead of aligned columns.
    """
    committed = last_commits(repo)
    rows = []
    for entry in ENTRIES_LIST:
        if method is not None and entry.method != method:
            continue
        rows.append([entry.method, entry.key, entry.paper, entry.budget, _last_run(entry, repo, committed)])
    header = ["method", "key", "paper", "budget", "last run"]
    if markdown:
        return markdown_table(header, rows)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header) - 1)]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1]
        for r in [header, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)


def _last_run(entry: Entry, repo: Path, committed: dict[str, tuple[str, str]]) -> str:
    reports = [r for r in entry.reports if r.endswith(".md") and (repo / r).is_file()]
    if not reports:
        present = [r for r in entry.reports if (repo / r).is_file()]
        return f"{present[0]} (no header)" if present else "no report yet"
    info = provenance(repo / reports[0], reports[0], committed)
    device = info.device if len(info.device) <= _DEVICE_CHARS else info.device[: _DEVICE_CHARS - 1] + "…"
    parts = [p for p in (info.date, device, info.commit) if p != NOT_RECORDED]
    return "; ".join(parts) if parts else NOT_RECORDED


register_command(
    Command(
        "reproduce",
        "the reproduction index: list paper tables, regenerate one, rebuild reports/README.md",
        _add_arguments,
        _run,
        allow_extra_args=True,
    )
)
