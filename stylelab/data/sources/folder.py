"""Images in a folder tree."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from stylelab.data.image_io import IMAGE_EXTENSIONS
from stylelab.data.sources.base import ImageSource, normalise_extensions, scan_folder


class ImageFolder(ImageSource):
    """Every image file in (or below) a folder, sorted by relative path.

    Hidden files and folders (``.DS_Store``, ``._x.jpg``, ``.git``) are ignored. The folder is scanned
    on first use, not when the object is built.

    Args:
        root: Folder to scan.
        recursive: Also include images in subfolders.
        extensions: File extensions to pick up (case-insensitive, with or without the dot).

    Raises:
        FileNotFoundError: On first use, if ``root`` does not exist.
        EmptySourceError: On first use, if no file matches (names the folder and the extensions).
    """

    def __init__(
        self, root: str | Path, recursive: bool = True, extensions: Sequence[str] = IMAGE_EXTENSIONS
    ) -> None:
        self.root = str(root)
        self.recursive = recursive
        self.extensions = normalise_extensions(extensions)
        self._paths: list[str] | None = None

    def _scan(self) -> list[str]:
        return [str(p) for p in scan_folder(self.root, self.extensions, self.recursive)]

    def paths(self) -> list[str]:
        """Absolute-or-as-given file paths, sorted by path relative to ``root``."""
        if self._paths is None:
            self._paths = self._scan()
        return self._paths

    def keys(self) -> list[str]:
        """Paths relative to ``root`` (POSIX separators), stable across machines."""
        return [Path(os.path.relpath(p, self.root)).as_posix() for p in self.paths()]
