"""Evaluation sets: fixed lists of (content, style) pairs, optionally with segmentation masks.

* ``quick``: the embedded sample (:mod:`stylelab.data.embedded`): 3 scikit-image photos x 2 generated
  textures (256²), no download;
* ``artistic``: the zoo's held-out split (:mod:`stylelab.zoo.splits`): every held-out photo x every
  held-out painting (7 x 8 = 56 pairs, never trained on by a zoo recipe);
* ``bank_styles``: the zoo's held-out photos x the paintings the shipped zoo StyleBank has banks for
  (7 x 5 = 35 pairs; the zoo's other recipes trained on these paintings too, so this set is easier for them
  than ``artistic``: it exists to give StyleBank, which cannot take a new style, a row);
* ``photoreal``: the DPST photoreal pairs of the shared data with their colour-coded masks (40 pairs);
* ``{folder: {content: DIR, style: DIR}}``: every content with every style;
* ``{pairs: {root: DIR, ...}}``: a paired layout (:class:`stylelab.data.sources.paired.PairedFolder`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from stylelab.benchmark.config import SetEntry

QUICK_PHOTOS = ("astronaut", "chelsea", "coffee")
QUICK_TEXTURES = 2
QUICK_TEXTURE_SIZE = 256


@dataclass(frozen=True)
class EvalPair:
    """One (content, style) pair of an evaluation set.

    Attributes:
        set_name: The set's name.
        pair_id: ``<content stem>__<style stem>`` (unique within the set).
        content: Content file, or ``generated://...`` for an embedded texture.
        style: Style file (or ``generated://...``).
        content_mask: Colour-coded content segmentation (paired sets), else ``None``.
        style_mask: Colour-coded style segmentation.
    """

    set_name: str
    pair_id: str
    content: str
    style: str
    content_mask: str | None = None
    style_mask: str | None = None


def _stem(path: str) -> str:
    return Path(path).stem


def _cross(set_name: str, contents: list[str], styles: list[str]) -> list[EvalPair]:
    return [
        EvalPair(set_name, f"{_stem(c)}__{_stem(s)}", c, s) for c in contents for s in styles
    ]  # content-major order: rows of the grid show one photo with several styles


def _images(folder: str) -> list[str]:
    from stylelab.data.image_io import IMAGE_EXTENSIONS

    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"evaluation folder {root} does not exist")
    found = sorted(str(p) for p in root.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
    if not found:
        raise FileNotFoundError(f"no images under {root}")
    return found


def _quick() -> list[EvalPair]:
    from stylelab.data.embedded import GeneratedTextures, SkimagePhotos

    photos = SkimagePhotos(QUICK_PHOTOS).paths()
    textures = GeneratedTextures(QUICK_TEXTURES, QUICK_TEXTURE_SIZE).paths()
    return _cross("quick", photos, textures)


def _artistic() -> list[EvalPair]:
    from stylelab.zoo.splits import split_files

    photos = [str(p) for p in split_files("photos", "held_out")]
    paintings = [str(p) for p in split_files("paintings", "held_out")]
    return _cross("artistic", photos, paintings)


def _bank_styles() -> list[EvalPair]:
    from stylelab.zoo import load_zoo_method
    from stylelab.zoo.splits import shared_images, split_files

    bank = load_zoo_method("stylebank")
    root = shared_images()
    styles = [str(root / name) for name in bank.style_names]
    missing = [s for s in styles if not Path(s).is_file()]
    if missing:
        raise FileNotFoundError(f"the zoo StyleBank's style images are missing: {missing}")
    photos = [str(p) for p in split_files("photos", "held_out")]
    return _cross("bank_styles", photos, styles)


def _paired(name: str, arguments: dict[str, object]) -> list[EvalPair]:
    from stylelab.data.sources.paired import PairedFolder

    source = PairedFolder(**arguments)  # type: ignore[arg-type]
    return [EvalPair(name, p.key, p.content, p.style, p.content_mask, p.style_mask) for p in source.pairs()]


def _photoreal() -> list[EvalPair]:
    from stylelab.zoo.splits import shared_images

    root = shared_images() / "photoreal_pairs"
    return _paired(
        "photoreal",
        {"root": root, "content_mask_dir": "content_seg", "style_mask_dir": "style_seg"},
    )


def build_set(entry: SetEntry, max_pairs: int | None = None) -> list[EvalPair]:
    """The pairs of one set, in a fixed order (``max_pairs``: the first ones).

    Raises:
        FileNotFoundError: The shared data or a folder is missing.
    """
    builders: dict[str, Callable[[], list[EvalPair]]] = {
        "quick": _quick,
        "artistic": _artistic,
        "bank_styles": _bank_styles,
        "photoreal": _photoreal,
    }
    if entry.folder is not None:
        pairs = _cross(entry.name, _images(entry.folder["content"]), _images(entry.folder["style"]))
    elif entry.pairs is not None:
        pairs = _paired(entry.name, dict(entry.pairs))
    else:
        pairs = builders[entry.name]()
    return pairs[:max_pairs] if max_pairs is not None else pairs


def load_rgb(path: str, max_size: int | None) -> Tensor:
    """``(1, 3, H, W)`` RGB [0, 1]: a file or an embedded texture, longer side capped at ``max_size``.

    Raises:
        stylelab.data.errors.UnreadableImageError: The file cannot be read.
    """
    if path.startswith("generated://"):
        from stylelab.data.embedded import GeneratedTextures

        spec, key = path.removeprefix("generated://").split("/")
        seed, size = (int(v) for v in spec.removeprefix("seed").split("-"))
        index = int(key.rsplit("_", 1)[1])
        image = GeneratedTextures(index + 1, size, seed).load(index)[None]
    else:
        from stylelab.data.image_io import load_image

        image = load_image(path)[None]
    if max_size is not None and max(image.shape[-2:]) > max_size:
        scale = max_size / max(image.shape[-2:])
        size = (max(1, round(image.shape[-2] * scale)), max(1, round(image.shape[-1] * scale)))
        image = F.interpolate(image, size=size, mode="bilinear", antialias=True, align_corners=False)
    return image.clamp(0, 1)


def load_labels(path: str | None, like: Tensor) -> Tensor | None:
    """Mask labels ``(1, H, W)`` resized (nearest) to ``like``'s ``(H, W)``, or ``None``."""
    if path is None:
        return None
    from stylelab.data.masks import load_mask
    from stylelab.ops import resize_labels

    return resize_labels(load_mask(path)[None], tuple(like.shape[-2:])).to(torch.long)
