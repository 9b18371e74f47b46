"""The built-in sample: data that needs no download on a fresh clone.

* :class:`SkimagePhotos` - colour photographs shipped inside the scikit-image wheel (read straight
  from the installed package folder; no ``pooch``, no network).
* :class:`GeneratedTextures` - procedural textures (:mod:`stylelab.data.textures`) used as styles.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor

from stylelab.data.sources.base import ImageSource
from stylelab.data.textures import TEXTURES, generate_texture

SKIMAGE_PHOTOS: dict[str, str] = {
    "astronaut": "astronaut.png",
    "chelsea": "chelsea.png",
    "coffee": "coffee.png",
    "rocket": "rocket.jpg",
    "motorcycle": "motorcycle_left.png",
    "hubble_deep_field": "hubble_deep_field.jpg",
    "immunohistochemistry": "ihc.png",
    "retina": "retina.jpg",
}
"""Colour photos bundled in the scikit-image wheel: name -> file in ``skimage/data/``."""


def skimage_data_dir() -> Path:
    """Folder of the images bundled with the installed scikit-image."""
    import skimage.data

    return Path(skimage.data.__file__).parent


class SkimagePhotos(ImageSource):
    """Colour photographs bundled with scikit-image (public domain / CC0; see scikit-image's data README).

    Args:
        names: Which photos (keys of :data:`SKIMAGE_PHOTOS`), in this order.

    Raises:
        ValueError: Unknown name.
        FileNotFoundError: On first use, if the installed scikit-image lacks a bundled file.
    """

    def __init__(self, names: Sequence[str] = tuple(SKIMAGE_PHOTOS)) -> None:
        unknown = [n for n in names if n not in SKIMAGE_PHOTOS]
        if unknown:
            raise ValueError(f"unknown scikit-image photos {unknown}; choose from {sorted(SKIMAGE_PHOTOS)}")
        if not names:
            raise ValueError("names must not be empty")
        self.names = tuple(names)
        self._paths: list[str] | None = None

    def paths(self) -> list[str]:
        """Files inside the installed ``skimage/data`` folder."""
        if self._paths is None:
            folder = skimage_data_dir()
            paths = [folder / SKIMAGE_PHOTOS[name] for name in self.names]
            missing = [str(p) for p in paths if not p.is_file()]
            if missing:
                raise FileNotFoundError(
                    f"scikit-image photos {missing} are not bundled with this scikit-image install; "
                    "pass names= with the available ones"
                )
            self._paths = [str(p) for p in paths]
        return self._paths

    def keys(self) -> list[str]:
        """The photo names."""
        return list(self.names)


class GeneratedTextures(ImageSource):
    """Deterministic procedural textures used as style images.

    Texture ``i`` is kind ``i mod 8`` (stripes, checker, waves, blobs, rings, strokes, mosaic, marble)
    drawn with seed ``(seed, i)``.

    Args:
        count: Number of textures.
        size: Side length in pixels.
        seed: Base seed; the same seed always gives the same images.
    """

    def __init__(self, count: int = 8, size: int = 256, seed: int = 0) -> None:
        if count < 1 or size < 8:
            raise ValueError(f"need count >= 1 and size >= 8, got count={count}, size={size}")
        self.count = count
        self.size = size
        self.seed = seed

    def kind(self, index: int) -> str:
        """Texture kind of item ``index``."""
        return list(TEXTURES)[index % len(TEXTURES)]

    def keys(self) -> list[str]:
        """``"<kind>_<index>"`` names."""
        return [f"{self.kind(i)}_{i:02d}" for i in range(self.count)]

    def paths(self) -> list[str]:
        """Pseudo paths ``generated://seed<seed>-<size>/<kind>_<index>`` (nothing on disk)."""
        return [f"generated://seed{self.seed}-{self.size}/{key}" for key in self.keys()]

    def load(self, index: int, *, max_pixels: int | None = None) -> Tensor:
        """Generate texture ``index`` as a ``(3, size, size)`` float32 RGB tensor in ``[0, 1]``."""
        if not 0 <= index < self.count:
            raise IndexError(f"texture index {index} out of range [0, {self.count})")
        array = generate_texture(self.kind(index), self.size, [self.seed, index])
        return torch.from_numpy(array.transpose(2, 0, 1).copy())
