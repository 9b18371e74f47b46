"""Which shared images a zoo recipe may train on and which are held out for its quality floor.

The split is fixed in code (not random) so that every recipe, test and report uses the same one:

* **held-out photos** (:data:`HELD_OUT_PHOTOS`): 7 of the staged content photos;
* **held-out paintings** (:data:`HELD_OUT_PAINTINGS`): 8 of the 26 staged paintings;
* **training photos**: the other staged content photos, every photo of the 40 DPST photoreal pairs
  (contents and style photos) and the scikit-image photos embedded with scikit-image;
* **training paintings**: the other 18 paintings.

Images live in ``$STYLELAB_SHARED_DATA/images`` (the Makefile sets the variable when a ``shared/data``
folder sits beside the checkout; the package itself assumes no path).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from stylelab.data.embedded import SKIMAGE_PHOTOS, SkimagePhotos
from stylelab.data.sources.base import ImageSource

SHARED_ENV = "STYLELAB_SHARED_DATA"

#: Staged content photos never trained on (file names in ``images/content``).
HELD_OUT_PHOTOS = (
    "avril.jpg",
    "brad_pitt.jpg",
    "coral_cat.jpg",
    "cornell.jpg",
    "hoovertowernight.jpg",
    "modern.jpg",
    "newyork.jpg",
)
#: Staged paintings never trained on (file names in ``images/style``).
HELD_OUT_PAINTINGS = (
    "antimonocromatismo.jpg",
    "brushstrokes.jpg",
    "en_campo_gris.jpg",
    "frida_kahlo.jpg",
    "la_muse.jpg",
    "mosaic.jpg",
    "picasso_self_portrait.jpg",
    "woman_in_peasant_dress.jpg",
)

Kind = Literal["photos", "paintings"]
Part = Literal["train", "held_out"]


def shared_images(shared: str | os.PathLike[str] | None = None) -> Path:
    """``<shared data>/images``: the argument, else ``$STYLELAB_SHARED_DATA``.

    Raises:
        FileNotFoundError: The folder does not exist (says where it looked and how to fix it).
    """
    candidates = [Path(shared)] if shared else []
    if os.environ.get(SHARED_ENV):
        candidates.append(Path(os.environ[SHARED_ENV]))
    for root in candidates:
        if (root / "images" / "style").is_dir():
            return root / "images"
    looked = ", ".join(str(c / "images") for c in candidates) or f"nowhere: {SHARED_ENV} is not set"
    raise FileNotFoundError(
        f"the shared images were not found (looked in {looked}); set {SHARED_ENV} to the shared data folder "
        "(the one holding images/style, images/content, images/photoreal_pairs)"
    )


def split_files(kind: Kind, part: Part, shared: str | os.PathLike[str] | None = None) -> list[Path]:
    """The image files of one side of the split, sorted.

    Args:
        kind: ``"photos"`` or ``"paintings"``.
        part: ``"train"`` or ``"held_out"``.
        shared: Shared data folder (default: see :func:`shared_images`).

    Raises:
        ValueError: Unknown kind or part.
        FileNotFoundError: No shared images.
    """
    if kind not in ("photos", "paintings") or part not in ("train", "held_out"):
        raise ValueError(f"kind must be photos|paintings and part train|held_out, got {kind!r}, {part!r}")
    root = shared_images(shared)
    folder, held = (
        (root / "content", HELD_OUT_PHOTOS) if kind == "photos" else (root / "style", HELD_OUT_PAINTINGS)
    )
    staged = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if part == "held_out":
        return [p for p in staged if p.name in held]
    files = [p for p in staged if p.name not in held]
    if kind == "photos":
        pairs = root / "photoreal_pairs"
        files = [p for p in files if not p.name.startswith("skimage_")]  # the embedded copies are added below
        files += sorted((pairs / "content").glob("*.jpg")) + sorted((pairs / "style").glob("*.jpg"))
        files += [Path(p) for p in SkimagePhotos(tuple(SKIMAGE_PHOTOS)).paths()]
    return files


class ZooSplit(ImageSource):
    """One side of the zoo split as a datamodule image source (for ``configs/zoo/*.yaml``).

    Args:
        kind: ``"photos"`` or ``"paintings"``.
        part: ``"train"`` (default) or ``"held_out"``.
        shared: Shared data folder (default: ``$STYLELAB_SHARED_DATA``).
        names: Keep only these file names (e.g. StyleBank's few styles), in this order.
    """

    def __init__(
        self, kind: Kind, part: Part = "train", shared: str | None = None, names: list[str] | None = None
    ) -> None:
        self.kind, self.part, self.shared, self.names = kind, part, shared, names
        self._paths: list[str] | None = None

    def keys(self) -> list[str]:
        """Paths relative to the shared images (``style/candy.jpg``; scikit-image photos: ``skimage/<name>``).

        Stable across machines, so splits and checkpoints (StyleBank's bank names) carry no local paths.
        """
        root = shared_images(self.shared)
        out = []
        for path in map(Path, self.paths()):
            out.append(
                path.relative_to(root).as_posix() if path.is_relative_to(root) else f"skimage/{path.name}"
            )
        return out

    def paths(self) -> list[str]:
        """The files (scanned once).

        Raises:
            ValueError: A name in ``names`` is not on this side of the split.
        """
        if self._paths is None:
            files = split_files(self.kind, self.part, self.shared)
            if self.names is not None:
                by_name = {p.name: p for p in files}
                missing = [n for n in self.names if n not in by_name]
                if missing:
                    raise ValueError(f"{missing} are not {self.part} {self.kind} of the zoo split")
                files = [by_name[n] for n in self.names]
            self._paths = [str(p) for p in files]
        return self._paths
