"""Bookkeeping for unreadable files: skip them deterministically, report each once."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

from torch.utils.data import get_worker_info

from stylelab.data.errors import NoLoadableImageError, UnreadableImageError

log = logging.getLogger(__name__)

T = TypeVar("T")


class SkipLog:
    """Unreadable files seen in the main process: ``path -> reason``; logs one warning per new path."""

    def __init__(self) -> None:
        self.reasons: dict[str, str] = {}

    def record(self, path: str, reason: str) -> None:
        """Remember a failure; warn the first time ``path`` fails."""
        if path not in self.reasons:
            self.reasons[path] = reason
            log.warning("skipping unreadable image %s: %s", path, reason)

    def __contains__(self, path: object) -> bool:
        return path in self.reasons

    def __len__(self) -> int:
        return len(self.reasons)


class SkipTracker:
    """Per-process memory of bad files plus the "try the next item" loop used by every dataset.

    In the main process failures also go to the shared :class:`SkipLog` (warned once). In DataLoader
    workers they only travel back in the batch's ``"skipped"`` list (the datamodule harvests them).

    Args:
        what: Description of the item collection for error messages.
        skip_log: Main-process log, or ``None``.
    """

    def __init__(self, what: str, skip_log: SkipLog | None = None) -> None:
        self.what = what
        self.skip_log = skip_log
        self.bad: dict[str, str] = {}

    def note(self, path: str, reason: str) -> None:
        """Remember that ``path`` is unreadable."""
        self.bad[path] = reason
        if self.skip_log is not None and get_worker_info() is None:
            self.skip_log.record(path, reason)

    def first_valid(
        self, start: int, count: int, build: Callable[[int], T], paths_of: Callable[[int], Iterable[str]]
    ) -> tuple[int, T, list[str]]:
        """Build item ``start``, or the next one (cyclically) whose files all load.

        Args:
            start: First index to try.
            count: Number of items (indices wrap around modulo ``count``).
            build: Loads item ``j``; raises :class:`UnreadableImageError` for a bad file.
            paths_of: The files item ``j`` needs (to skip known-bad items without decoding them).

        Returns:
            ``(index used, built item, paths skipped on the way)``.

        Raises:
            NoLoadableImageError: All ``count`` items failed.
        """
        skipped: list[str] = []
        for step in range(count):
            j = (start + step) % count
            known_bad = [p for p in paths_of(j) if p in self.bad]
            if known_bad:
                skipped.extend(known_bad)
                continue
            try:
                return j, build(j), skipped
            except UnreadableImageError as error:
                self.note(error.path, error.reason)
                skipped.append(error.path)
        raise NoLoadableImageError(self.what, self.bad)
