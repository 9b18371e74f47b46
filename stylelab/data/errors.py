"""Errors raised by the data layer, each saying what went wrong and how to fix it."""

from __future__ import annotations

from collections.abc import Sequence


class UnreadableImageError(Exception):
    """An image (or mask) file could not be decoded.

    Raised for missing, corrupt, truncated, non-image and over-sized files. Datasets catch it and
    move on to the next valid item, recording ``path`` in the batch's ``"skipped"`` list.

    Attributes:
        path: The file (or item identifier) that failed.
        reason: Short human-readable cause.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(str(path), reason)
        self.path = str(path)
        self.reason = reason

    def __str__(self) -> str:
        return f"cannot read image {self.path!r}: {self.reason}"


class EmptySourceError(ValueError):
    """A folder holds no file with one of the searched extensions."""

    def __init__(self, folder: str, extensions: Sequence[str], recursive: bool = True) -> None:
        self.folder = str(folder)
        self.extensions = tuple(extensions)
        where = "in or below" if recursive else "directly in"
        super().__init__(
            f"no image found {where} {self.folder!r} (searched extensions: {', '.join(self.extensions)}). "
            "Check the path, or pass `extensions=` to match your files."
        )


class NoLoadableImageError(RuntimeError):
    """Every candidate file of a source failed to load, so no sample can be produced.

    Args:
        what: The collection that ran dry (e.g. ``"the training content images"``), or a complete
            message when ``failures`` is omitted (how DataLoader workers re-raise it).
        failures: ``path -> reason`` of the files that failed.
    """

    def __init__(self, what: str, failures: dict[str, str] | None = None) -> None:
        self.failures = dict(failures or {})
        if failures is None:
            super().__init__(what)
            return
        shown = "; ".join(f"{p}: {r}" for p, r in list(self.failures.items())[:5])
        more = f" (+{len(self.failures) - 5} more)" if len(self.failures) > 5 else ""
        super().__init__(
            f"all {len(self.failures)} candidate images of {what} are unreadable, e.g. {shown}{more}. "
            "Fix or remove the files, or point the source at another folder."
        )
