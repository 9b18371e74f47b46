"""References to single images and to content/style pairs, resolved lazily."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from stylelab.data.sources.base import ImageSource


@dataclass(frozen=True, eq=False)
class ImageRef:
    """Item ``index`` of ``source``."""

    source: ImageSource
    index: int

    @property
    def path(self) -> str:
        """The item's path (or identifier)."""
        return self.source.paths()[self.index]

    @property
    def key(self) -> str:
        """The item's location-independent name."""
        return self.source.keys()[self.index]

    def load(self, max_pixels: int | None = None) -> Tensor:
        """Read the image: ``(3, H, W)`` float32 RGB in ``[0, 1]``."""
        return self.source.load(self.index, max_pixels=max_pixels)


@dataclass(frozen=True, eq=False)
class PairSpec:
    """A content image, a style image and (paired data only) their mask files."""

    content: ImageRef
    style: ImageRef
    content_mask: str | None = None
    style_mask: str | None = None

    def paths(self) -> list[str]:
        """Every file this pair needs."""
        extra = [p for p in (self.content_mask, self.style_mask) if p is not None]
        return [self.content.path, self.style.path, *extra]
