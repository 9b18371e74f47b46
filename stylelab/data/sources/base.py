"""The :class:`ImageSource` interface: an ordered, indexable collection of images."""

from __future__ import annotations

import abc
import os
from collections.abc import Sequence
from pathlib import Path

from torch import Tensor

from stylelab.data.errors import EmptySourceError
from stylelab.data.image_io import IMAGE_EXTENSIONS, load_image


class ImageSource(abc.ABC):
    """An ordered collection of images, addressed by index.

    Subclasses implement :meth:`paths`; :meth:`load` reads ``paths()[i]`` from disk unless
    overridden (generated or in-memory sources). Sources are plain classes with typed ``__init__`` so
    LightningCLI can build them from YAML (``class_path`` + ``init_args``). They scan lazily: building
    one never touches the disk, the first :meth:`paths` call does.
    """

    @abc.abstractmethod
    def paths(self) -> list[str]:
        """Identifiers of all items, in a fixed order (file paths for file-backed sources).

        Implementations may return a cached list: callers must not mutate it.
        """

    def keys(self) -> list[str]:
        """Location-independent item names used for hashing splits (default: :meth:`paths`)."""
        return self.paths()

    def __len__(self) -> int:
        return len(self.paths())

    def load(self, index: int, *, max_pixels: int | None = None) -> Tensor:
        """Read item ``index``.

        Args:
            index: Position in :meth:`paths`.
            max_pixels: Decompression-bomb guard (``None``: the library default).

        Returns:
            ``(3, H, W)`` float32 RGB tensor in ``[0, 1]``.

        Raises:
            UnreadableImageError: The item cannot be decoded.
        """
        return load_image(self.paths()[index], max_pixels=max_pixels)

    def prepare(self) -> None:  # noqa: B027 - optional hook, deliberately empty
        """Download or build the data if the source knows how (called once, from ``prepare_data``)."""

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


def normalise_extensions(extensions: Sequence[str]) -> tuple[str, ...]:
    """Lower-case extensions with a leading dot (``"JPG"`` -> ``".jpg"``)."""
    if isinstance(extensions, str):
        extensions = [extensions]
    return tuple(sorted({(e if e.startswith(".") else f".{e}").lower() for e in extensions}))


def scan_folder(
    root: str | os.PathLike[str], extensions: Sequence[str] = IMAGE_EXTENSIONS, recursive: bool = True
) -> list[Path]:
    """List image files below a folder, sorted, skipping hidden files and folders.

    Args:
        root: Folder to scan.
        extensions: File extensions to keep (case-insensitive).
        recursive: Also descend into subfolders.

    Returns:
        Sorted list of file paths (by their path relative to ``root``).

    Raises:
        FileNotFoundError: ``root`` is not an existing folder.
        EmptySourceError: No file matched.
    """
    folder = Path(root)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder {str(folder)!r} does not exist (or is not a folder)")
    wanted = normalise_extensions(extensions)
    found: list[Path] = []
    visited: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in visited:  # a symlink loop
            dirnames[:] = []
            continue
        visited.add(real)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")) if recursive else []
        found.extend(
            Path(dirpath) / name
            for name in filenames
            if not name.startswith(".") and os.path.splitext(name)[1].lower() in wanted
        )
    if not found:
        raise EmptySourceError(str(folder), wanted, recursive)
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


class FileListSource(ImageSource):
    """A fixed list of image files.

    Args:
        files: Image file paths, kept in the given order.
        root: Optional common folder; keys are then paths relative to it (stable across machines).
    """

    def __init__(self, files: Sequence[str], root: str | None = None) -> None:
        self.files = [str(f) for f in files]
        self.root = root

    def paths(self) -> list[str]:
        """The files as given (do not mutate the returned list)."""
        return self.files

    def keys(self) -> list[str]:
        """Paths relative to ``root`` when given, else the paths."""
        if self.root is None:
            return self.paths()
        return [Path(os.path.relpath(f, self.root)).as_posix() for f in self.files]
