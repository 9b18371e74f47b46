"""WikiArt paintings as a style source."""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from stylelab.data.errors import EmptySourceError
from stylelab.data.image_io import IMAGE_EXTENSIONS
from stylelab.data.sources.folder import ImageFolder

log = logging.getLogger(__name__)

_NAME_COLUMNS = ("new_filename", "filename", "file_name", "file", "path", "image")


def read_split_file(path: str | os.PathLike[str], column: str | None = None) -> list[str]:
    """File names listed in a split CSV.

    Accepts a headerless CSV whose first column is a file name or relative path (the ArtGAN
    ``style_train.csv`` layout: ``Impressionism/monet_x.jpg,12``) or a CSV with a header, where the
    column is ``column`` or the first of ``new_filename`` (Painter by Numbers ``all_data_info.csv``),
    ``filename``, ``file_name``, ``file``, ``path``, ``image``.

    Args:
        path: The CSV file.
        column: Header name of the file-name column (``None``: detect).

    Returns:
        The listed names, in file order, as POSIX paths.

    Raises:
        FileNotFoundError: The CSV does not exist.
        ValueError: ``column`` is not in the header.
    """
    with open(path, newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle) if row and row[0].strip()]
    if not rows:
        return []
    header = [cell.strip() for cell in rows[0]]
    index = 0
    if column is not None:
        if column not in header:
            raise ValueError(f"column {column!r} not in the header of {path}: {header}")
        index, rows = header.index(column), rows[1:]
    elif os.path.splitext(header[0])[1].lower() not in IMAGE_EXTENSIONS:
        lowered = [h.lower() for h in header]
        index = next((lowered.index(c) for c in _NAME_COLUMNS if c in lowered), 0)
        rows = rows[1:]
    return [row[index].strip().replace("\\", "/") for row in rows if len(row) > index]


class WikiArt(ImageFolder):
    """WikiArt paintings: ``root/<Style_or_Genre>/<file>.jpg`` (any depth, or flat as in Painter by Numbers).

    Args:
        root: Folder holding the paintings (scanned recursively).
        split_file: Optional CSV listing the files of a split (see :func:`read_split_file`); entries
            match a relative path (``Impressionism/x.jpg``) or a bare file name (``x.jpg``). Listed files
            that are missing are counted and reported in a warning.
        split_column: Header of the CSV column with the file names (``None``: detect).
        extensions: File extensions to pick up.
    """

    def __init__(
        self,
        root: str | Path,
        split_file: str | None = None,
        split_column: str | None = None,
        extensions: Sequence[str] = IMAGE_EXTENSIONS,
    ) -> None:
        super().__init__(root, recursive=True, extensions=extensions)
        self.split_file = split_file
        self.split_column = split_column

    def _scan(self) -> list[str]:
        files = super()._scan()
        if self.split_file is None:
            return files
        listed = read_split_file(self.split_file, self.split_column)
        wanted = set(listed)
        kept = []
        matched: set[str] = set()
        for path in files:
            relative = Path(os.path.relpath(path, self.root)).as_posix()
            name = relative.rsplit("/", 1)[-1]
            hit = relative if relative in wanted else (name if name in wanted else None)
            if hit is not None:
                kept.append(path)
                matched.add(hit)
        missing = len(wanted - matched)
        if missing:
            log.warning(
                "%d of %d files listed in %s are not under %s",
                missing,
                len(wanted),
                self.split_file,
                self.root,
            )
        if not kept:
            raise EmptySourceError(f"{self.root} (filtered by {self.split_file})", self.extensions)
        return kept
