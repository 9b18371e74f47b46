"""Matched content/style pairs with optional segmentation masks (PST / Deep Photo Style Transfer)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from stylelab.data.errors import EmptySourceError
from stylelab.data.image_io import IMAGE_EXTENSIONS
from stylelab.data.sources.base import FileListSource, normalise_extensions, scan_folder

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PairFiles:
    """The files of one pair, matched by ``key`` (the file stem without its folder's prefix)."""

    key: str
    content: str
    style: str
    content_mask: str | None = None
    style_mask: str | None = None


class PairedFolder:
    """Content/style pairs matched by file stem, e.g. ``root/content/x.jpg`` <-> ``root/style/x.jpg``.

    Layout (defaults)::

        root/content/<stem>.jpg      root/content_seg/<stem>.png   (optional masks)
        root/style/<stem>.jpg        root/style_seg/<stem>.png

    A file is matched by its stem with the folder's prefix removed, so the original DPST layout
    (``input/in12.png``, ``style/tar12.png``, ``segmentation/in12.png``, ``segmentation/tar12.png``)
    works with ``content_prefix="in"``, ``style_prefix="tar"`` and both mask folders set to
    ``segmentation``. When mask folders are given, a pair needs both masks. Files without a partner
    are listed in :attr:`unmatched` and reported in one warning.

    Args:
        root: Folder holding the sub-folders below.
        content_dir: Content photos, relative to ``root``.
        style_dir: Style (reference) photos.
        content_mask_dir: Colour-coded content masks (``None``: no masks).
        style_mask_dir: Colour-coded style masks (``None``: no masks).
        content_prefix: Stem prefix of content files and masks (``""``: none).
        style_prefix: Stem prefix of style files and masks.
        extensions: File extensions to pick up.

    Raises:
        ValueError: On first use, if only one mask folder is given.
        EmptySourceError: On first use, if no pair matches.
    """

    def __init__(
        self,
        root: str | Path,
        content_dir: str = "content",
        style_dir: str = "style",
        content_mask_dir: str | None = None,
        style_mask_dir: str | None = None,
        content_prefix: str = "",
        style_prefix: str = "",
        extensions: Sequence[str] = IMAGE_EXTENSIONS,
    ) -> None:
        self.root = str(root)
        self.content_dir = content_dir
        self.style_dir = style_dir
        self.content_mask_dir = content_mask_dir
        self.style_mask_dir = style_mask_dir
        self.content_prefix = content_prefix
        self.style_prefix = style_prefix
        self.extensions = normalise_extensions(extensions)
        self._pairs: list[PairFiles] | None = None
        self.unmatched: dict[str, list[str]] = {}

    @property
    def has_masks(self) -> bool:
        """Whether pairs carry segmentation masks."""
        return self.content_mask_dir is not None

    def _index(self, folder: str, prefix: str) -> dict[str, str]:
        directory = Path(self.root) / folder
        by_key: dict[str, str] = {}
        for path in scan_folder(directory, self.extensions, recursive=False):
            if not path.stem.startswith(prefix):
                continue
            key = path.stem[len(prefix) :]
            if key in by_key:
                log.warning(
                    "%s: both %s and %s match key %r; using the first", directory, by_key[key], path, key
                )
                continue
            by_key[key] = str(path)
        return by_key

    def pairs(self) -> list[PairFiles]:
        """All matched pairs, sorted by key (scanned once, then cached)."""
        if self._pairs is not None:
            return self._pairs
        if (self.content_mask_dir is None) != (self.style_mask_dir is None):
            raise ValueError("give both content_mask_dir and style_mask_dir, or neither")
        folders = {
            "content": self._index(self.content_dir, self.content_prefix),
            "style": self._index(self.style_dir, self.style_prefix),
        }
        if self.content_mask_dir is not None and self.style_mask_dir is not None:
            folders["content_mask"] = self._index(self.content_mask_dir, self.content_prefix)
            folders["style_mask"] = self._index(self.style_mask_dir, self.style_prefix)
        keys = set.intersection(*(set(files) for files in folders.values()))
        self.unmatched = {
            role: sorted(path for key, path in files.items() if key not in keys)
            for role, files in folders.items()
        }
        self.unmatched = {role: paths for role, paths in self.unmatched.items() if paths}
        if self.unmatched:
            summary = "; ".join(
                f"{role}: {len(paths)} ({', '.join(map(os.path.basename, paths[:3]))}"
                f"{', ...' if len(paths) > 3 else ''})"
                for role, paths in self.unmatched.items()
            )
            log.warning("PairedFolder %s: files without a partner are ignored: %s", self.root, summary)
        if not keys:
            raise EmptySourceError(
                f"{self.root} (no stem common to {', '.join(folders)}; prefixes "
                f"{self.content_prefix!r}/{self.style_prefix!r})",
                self.extensions,
                recursive=False,
            )
        self._pairs = [
            PairFiles(
                key=key,
                content=folders["content"][key],
                style=folders["style"][key],
                content_mask=folders.get("content_mask", {}).get(key),
                style_mask=folders.get("style_mask", {}).get(key),
            )
            for key in sorted(keys)
        ]
        return self._pairs

    def __len__(self) -> int:
        return len(self.pairs())

    def keys(self) -> list[str]:
        """The matching keys, one per pair (used to hash the split)."""
        return [pair.key for pair in self.pairs()]

    def content_source(self) -> FileListSource:
        """The content photos of all pairs, in pair order."""
        return FileListSource([pair.content for pair in self.pairs()], root=self.root)

    def style_source(self) -> FileListSource:
        """The style photos of all pairs, in pair order."""
        return FileListSource([pair.style for pair in self.pairs()], root=self.root)

    def prepare(self) -> None:
        """Nothing to download: PST is not public (see ``data/README.md``)."""

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_") and k != "unmatched"
        )
        return f"PairedFolder({fields})"
