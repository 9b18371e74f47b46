"""When, where and from which commit a report on disk was produced ("last run").

The report's own header (:func:`stylelab.reproduce.header.parse_header`) comes first. Where it does not say,
the last git commit that touched the file stands in for the date and commit, marked ``(committed)``: that
is when the report entered the repository, not necessarily when it ran. Anything else is
``not recorded``.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from stylelab.reproduce.header import parse_header

NOT_RECORDED = "not recorded"


@dataclass(frozen=True)
class Provenance:
    """The four fields of a report's line in ``reports/README.md``, as display strings."""

    date: str
    device: str
    commit: str
    budget: str


def last_commits(repo: Path, folder: str = "reports") -> dict[str, tuple[str, str]]:
    """``{repo-relative path: (short commit, YYYY-MM-DD)}`` of the last commit touching each file.

    One ``git log`` call for the whole folder; empty outside a git checkout.
    """
    try:
        out = subprocess.run(
            ["git", "log", "--format=@%h %ad", "--date=short", "--name-only", "--", folder],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    found: dict[str, tuple[str, str]] = {}
    current: tuple[str, str] | None = None
    for line in out.splitlines():
        if line.startswith("@"):
            commit, date = line[1:].split(" ", 1)
            current = (commit, date)
        elif line and current is not None:
            found.setdefault(line, current)  # git log is newest first
    return found


def provenance(
    path: Path, relative: str, committed: dict[str, tuple[str, str]], fallback_budget: str | None = None
) -> Provenance:
    """The provenance of one report.

    Args:
        path: The report file.
        relative: Its path relative to the repository root (the key of ``committed``).
        committed: :func:`last_commits` of the repository.
        fallback_budget: The index's budget of the entry that writes it, used when the report names none.
    """
    header = parse_header(path.read_text(errors="replace"))
    commit_info = committed.get(relative)
    date = header.date or (f"{commit_info[1]} (committed)" if commit_info else NOT_RECORDED)
    commit = header.commit or (f"{commit_info[0]} (committed)" if commit_info else NOT_RECORDED)
    budget = header.budget or (f"{fallback_budget} (index)" if fallback_budget else NOT_RECORDED)
    return Provenance(date=date, device=header.device or NOT_RECORDED, commit=commit, budget=budget)
