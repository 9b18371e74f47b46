"""Map-style datasets producing content/style samples; unreadable files are skipped, never fatal.

Every dataset accepts either an ``int`` index or the ``(index, epoch)`` tuples of
:class:`~stylelab.data.sampler.EpochSampler`; random choices come from a generator seeded with
``(seed, epoch, index)``, so a sample is the same in any worker process.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

from stylelab.data.errors import UnreadableImageError
from stylelab.data.items import ImageRef, PairSpec
from stylelab.data.masks import load_mask
from stylelab.data.skips import SkipLog, SkipTracker
from stylelab.data.splits import stable_hash
from stylelab.data.transforms import Transform, resize_mask

Sample = dict[str, Any]


def item_generator(seed: int, epoch: int, index: int) -> torch.Generator:
    """Random generator for one sample of one epoch (independent of worker layout)."""
    return torch.Generator().manual_seed(stable_hash(seed, epoch, index) % 2**63)


def _unpack(key: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(key, (tuple, list)):
        return int(key[0]), int(key[1])
    return int(key), 0


def load_aligned_mask(path: str, image: Tensor, max_pixels: int | None = None) -> Tensor:
    """Load a mask and make it match its image's size.

    A mask drawn at another resolution with the same aspect ratio (within 2%) is resized by nearest
    neighbour; a real mismatch is an error.

    Args:
        path: Mask file.
        image: ``(3, H, W)`` image the mask belongs to.
        max_pixels: Decompression-bomb guard.

    Returns:
        ``(H, W)`` int64 labels.

    Raises:
        UnreadableImageError: Unreadable mask or incompatible shape.
    """
    mask = load_mask(path, max_pixels=max_pixels)
    height, width = image.shape[-2:]
    if tuple(mask.shape) == (height, width):
        return mask
    mh, mw = mask.shape
    if abs(mh / mw - height / width) > 0.02 * (height / width):
        raise UnreadableImageError(path, f"mask is {mh}x{mw} but its image is {height}x{width}")
    return resize_mask(mask, (height, width))


class _SkippingDataset(Dataset[Sample]):
    def __init__(
        self, transform: Transform, seed: int, max_pixels: int | None, skip_log: SkipLog | None, what: str
    ) -> None:
        self.transform = transform
        self.seed = seed
        self.max_pixels = max_pixels
        self.tracker = SkipTracker(what, skip_log)


class RandomStyleDataset(_SkippingDataset):
    """Each content image with a uniformly random style, redrawn every epoch (training).

    Args:
        contents: Content images; the dataset length.
        styles: Style images to draw from.
        transform: Applied to content and style independently (e.g. :class:`TrainTransform`).
        seed: Base seed.
        max_pixels: Decompression-bomb guard.
        skip_log: Main-process record of unreadable files.

    Returns (per item):
        ``{"content": (3, h, w), "style": (3, h, w), "content_path": str, "style_path": str,
        "skipped": list[str]}``.
    """

    def __init__(
        self,
        contents: Sequence[ImageRef],
        styles: Sequence[ImageRef],
        transform: Transform,
        seed: int = 0,
        max_pixels: int | None = None,
        skip_log: SkipLog | None = None,
    ) -> None:
        super().__init__(transform, seed, max_pixels, skip_log, "the training content images")
        if not contents or not styles:
            raise ValueError(f"need content and style images, got {len(contents)} and {len(styles)}")
        self.contents = list(contents)
        self.styles = list(styles)
        self.style_tracker = SkipTracker("the training style images", skip_log)

    def __len__(self) -> int:
        return len(self.contents)

    def __getitem__(self, key: int | tuple[int, int]) -> Sample:
        index, epoch = _unpack(key)
        generator = item_generator(self.seed, epoch, index)
        style_start = int(torch.randint(len(self.styles), (1,), generator=generator))
        ci, content, skipped = self.tracker.first_valid(
            index,
            len(self.contents),
            lambda j: self.contents[j].load(self.max_pixels),
            lambda j: [self.contents[j].path],
        )
        si, style, skipped_styles = self.style_tracker.first_valid(
            style_start,
            len(self.styles),
            lambda j: self.styles[j].load(self.max_pixels),
            lambda j: [self.styles[j].path],
        )
        content, _ = self.transform(content, None, generator)
        style, _ = self.transform(style, None, generator)
        return {
            "content": content,
            "style": style,
            "content_path": self.contents[ci].path,
            "style_path": self.styles[si].path,
            "skipped": skipped + skipped_styles,
        }


class PairDataset(_SkippingDataset):
    """A fixed list of (content, style[, masks]) pairs: evaluation pairs, or paired training data.

    Args:
        pairs: The pairs, in order.
        transform: Applied to content (+ its mask) and style (+ its mask) independently.
        seed: Base seed (for random transforms).
        max_pixels: Decompression-bomb guard.
        skip_log: Main-process record of unreadable files.
        with_masks: Also load ``content_mask``/``style_mask`` (every pair must name both files).

    Returns (per item):
        ``{"content": (3, h, w), "style": (3, h', w'), "content_path": str, "style_path": str,
        "skipped": list[str]}`` plus ``"content_mask": (h, w)``, ``"style_mask": (h', w')`` int64 with
        masks. A pair with an unreadable file is replaced by the next readable pair.
    """

    def __init__(
        self,
        pairs: Sequence[PairSpec],
        transform: Transform,
        seed: int = 0,
        max_pixels: int | None = None,
        skip_log: SkipLog | None = None,
        with_masks: bool = False,
    ) -> None:
        super().__init__(transform, seed, max_pixels, skip_log, "the content/style pairs")
        self.pairs = list(pairs)
        self.with_masks = with_masks
        if with_masks and any(p.content_mask is None or p.style_mask is None for p in self.pairs):
            raise ValueError("with_masks=True needs a content and a style mask for every pair")

    def __len__(self) -> int:
        return len(self.pairs)

    def _build(self, j: int) -> dict[str, Tensor]:
        pair = self.pairs[j]
        out = {"content": pair.content.load(self.max_pixels), "style": pair.style.load(self.max_pixels)}
        if self.with_masks:
            assert pair.content_mask is not None and pair.style_mask is not None
            out["content_mask"] = load_aligned_mask(pair.content_mask, out["content"], self.max_pixels)
            out["style_mask"] = load_aligned_mask(pair.style_mask, out["style"], self.max_pixels)
        return out

    def __getitem__(self, key: int | tuple[int, int]) -> Sample:
        index, epoch = _unpack(key)
        generator = item_generator(self.seed, epoch, index)
        j, images, skipped = self.tracker.first_valid(
            index, len(self.pairs), self._build, lambda j: self.pairs[j].paths()
        )
        content, content_mask = self.transform(images["content"], images.get("content_mask"), generator)
        style, style_mask = self.transform(images["style"], images.get("style_mask"), generator)
        sample: Sample = {
            "content": content,
            "style": style,
            "content_path": self.pairs[j].content.path,
            "style_path": self.pairs[j].style.path,
            "skipped": skipped,
        }
        if self.with_masks:
            sample["content_mask"] = content_mask
            sample["style_mask"] = style_mask
        return sample


class ImageDataset(_SkippingDataset):
    """Single images (e.g. all training styles for a style library, or contents for PCA fitting).

    Args:
        images: The images, in order.
        transform: Applied to each image.
        seed: Base seed (for random transforms).
        max_pixels: Decompression-bomb guard.
        skip_log: Main-process record of unreadable files.

    Returns (per item):
        ``{"image": (3, h, w), "path": str, "skipped": list[str]}``.
    """

    def __init__(
        self,
        images: Sequence[ImageRef],
        transform: Transform,
        seed: int = 0,
        max_pixels: int | None = None,
        skip_log: SkipLog | None = None,
    ) -> None:
        super().__init__(transform, seed, max_pixels, skip_log, "the images")
        self.images = list(images)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, key: int | tuple[int, int]) -> Sample:
        index, epoch = _unpack(key)
        generator = item_generator(self.seed, epoch, index)
        j, image, skipped = self.tracker.first_valid(
            index,
            len(self.images),
            lambda j: self.images[j].load(self.max_pixels),
            lambda j: [self.images[j].path],
        )
        image, _ = self.transform(image, None, generator)
        return {"image": image, "path": self.images[j].path, "skipped": skipped}
