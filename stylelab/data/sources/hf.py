"""Images from a Hugging Face ``datasets`` dataset (hub name or a local ``imagefolder``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from torch import Tensor

from stylelab.data.errors import UnreadableImageError
from stylelab.data.image_io import decode_image, load_image
from stylelab.data.sources.base import ImageSource


class HFDataset(ImageSource):
    """One image column of a Hugging Face dataset.

    The dataset is loaded with ``datasets.load_dataset`` on first use (or in ``prepare_data``), with
    the image column cast to ``Image(decode=False)`` so this library decodes the bytes itself (same
    conversion rules and bad-file handling as folders). A string column holding file paths works too.

    Args:
        path: Hub dataset name (``"huggan/wikiart"``) or a builder such as ``"imagefolder"``.
        split: Split to read.
        image_column: Column holding the images (``Image`` feature or file paths).
        data_dir: Local folder for builders like ``imagefolder`` (``HFDataset("imagefolder", data_dir=...)``).
        data_files: Files or glob patterns, as accepted by ``load_dataset``.
        name: Dataset configuration name.
        cache_dir: Cache folder (``None``: the ``datasets`` default, ``$HF_HOME``).

    Raises:
        ValueError: On first use, if ``image_column`` is missing or of an unusable type.
    """

    def __init__(
        self,
        path: str,
        split: str = "train",
        image_column: str = "image",
        data_dir: str | None = None,
        data_files: str | list[str] | dict[str, str | list[str]] | None = None,
        name: str | None = None,
        cache_dir: str | None = None,
    ) -> None:
        self.path = path
        self.split = split
        self.image_column = image_column
        self.data_dir = data_dir
        self.data_files = data_files
        self.name = name
        self.cache_dir = cache_dir
        self._dataset: Any = None
        self._paths: list[str] | None = None
        self._keys: list[str] | None = None

    def prepare(self) -> None:
        """Download (or build the local cache of) the dataset."""
        self._load()

    def _load(self) -> Any:
        if self._dataset is not None:
            return self._dataset
        import datasets

        dataset = datasets.load_dataset(
            self.path,
            self.name,
            split=self.split,
            data_dir=self.data_dir,
            data_files=self.data_files,
            cache_dir=self.cache_dir,
        )
        if self.image_column not in dataset.column_names:
            raise ValueError(
                f"column {self.image_column!r} not in dataset {self.path!r} (split {self.split!r}); "
                f"available columns: {dataset.column_names}. Set image_column."
            )
        feature = dataset.features[self.image_column]
        if isinstance(feature, datasets.Image):
            dataset = dataset.cast_column(self.image_column, datasets.Image(decode=False))
        elif not (isinstance(feature, datasets.Value) and feature.dtype in ("string", "large_string")):
            raise ValueError(
                f"column {self.image_column!r} of {self.path!r} has type {feature}; expected an Image "
                "feature or a string column of file paths"
            )
        self._dataset = dataset.select_columns([self.image_column])
        return self._dataset

    def _stored_paths(self) -> list[str | None]:
        dataset = self._load()
        column = dataset.data.column(self.image_column)
        if str(column.type).startswith("struct"):
            import pyarrow.compute as pc

            column = pc.struct_field(column, "path")
        return column.to_pylist()

    def paths(self) -> list[str]:
        """The stored file path of each row when known, else ``"<path>[<split>]#<row>"``."""
        if self._paths is None:
            stored = self._stored_paths()
            self._paths = [p if p else f"{self.path}[{self.split}]#{i}" for i, p in enumerate(stored)]
            self._keys = [self._key(i, s) for i, s in enumerate(stored)]
        return self._paths

    def _key(self, row: int, stored: str | None) -> str:
        if not stored:
            return f"#{row}"
        if not os.path.isabs(stored):
            return stored.replace("\\", "/")
        if self.data_dir and not os.path.relpath(stored, self.data_dir).startswith(".."):
            return Path(os.path.relpath(stored, self.data_dir)).as_posix()
        return os.path.basename(stored)

    def keys(self) -> list[str]:
        """Location-independent names: path relative to ``data_dir``, stored name, or ``"#<row>"``."""
        self.paths()
        assert self._keys is not None
        return self._keys

    def load(self, index: int, *, max_pixels: int | None = None) -> Tensor:
        """Decode row ``index``; see :meth:`ImageSource.load`."""
        value = self._load()[index][self.image_column]
        label = self.paths()[index]
        if isinstance(value, str):
            return load_image(value, max_pixels=max_pixels)
        if isinstance(value, dict) and value.get("bytes"):
            return decode_image(value["bytes"], name=label, max_pixels=max_pixels)
        if isinstance(value, dict) and value.get("path"):
            return load_image(value["path"], max_pixels=max_pixels)
        raise UnreadableImageError(label, "row holds neither image bytes nor a file path")
