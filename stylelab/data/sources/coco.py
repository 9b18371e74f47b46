"""MS-COCO images as a content source."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from stylelab.data.download import download_file, extract_archive
from stylelab.data.sources.folder import ImageFolder

log = logging.getLogger(__name__)

COCO_URL = "http://images.cocodataset.org/zips/{split}.zip"
"""Official image archives (``train2014`` 13 GB / 82,783 images, ``train2017`` 18 GB / 118,287)."""


class COCO(ImageFolder):
    """MS-COCO images, laid out as ``root/<split>/*.jpg`` (e.g. ``data/coco/train2014/``).

    Annotations (``root/annotations/``) are not needed and ignored.

    Args:
        root: Folder holding the split folders.
        split: ``"train2014"`` (AdaIN/SANet habit), ``"train2017"`` (PCA-KD), ``"val2014"`` ...
        extensions: File extensions to pick up.
        download: If the split folder is missing, :meth:`prepare` downloads and unpacks the official
            archive (large!). Off by default; see ``data/README.md``.
        url: Archive URL template (``{split}`` is filled in); override for a mirror.
    """

    def __init__(
        self,
        root: str | Path,
        split: str = "train2014",
        extensions: Sequence[str] = (".jpg", ".jpeg", ".png"),
        download: bool = False,
        url: str = COCO_URL,
    ) -> None:
        super().__init__(Path(root) / split, recursive=False, extensions=extensions)
        self.coco_root = str(root)
        self.split = split
        self.download = download
        self.url = url

    def _scan(self) -> list[str]:
        if not Path(self.root).is_dir():
            raise FileNotFoundError(
                f"COCO split folder {self.root!r} not found. Download {self.url.format(split=self.split)} "
                f"and unzip it into {self.coco_root!r} (see data/README.md), or set download=True."
            )
        return super()._scan()

    def prepare(self) -> None:
        """Download and unpack ``<split>.zip`` into ``root`` when ``download=True`` and it is missing."""
        if not self.download or Path(self.root).is_dir():
            return
        url = self.url.format(split=self.split)
        archive = Path(self.coco_root) / f"{self.split}.zip"
        log.info("downloading COCO %s from %s", self.split, url)
        download_file(url, archive)
        extract_archive(archive, self.coco_root)
        archive.unlink()
        self._paths = None
