"""Geometric transforms for images ``(3, H, W)`` and their label masks ``(H, W)``.

Images are resized with antialiased bilinear interpolation, masks with exact nearest-neighbour
indexing (labels are never blended). A transform object takes an image, an optional mask and an
optional ``torch.Generator`` and returns ``(image, mask)``; the mask gets the same resize and crop.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

Box = tuple[int, int, int, int]
"""A crop box ``(top, left, height, width)``."""


def shorter_side_size(height: int, width: int, size: int) -> tuple[int, int]:
    """Output size that makes the shorter side ``size`` and keeps the aspect ratio.

    Args:
        height: Input height.
        width: Input width.
        size: Target length of the shorter side.

    Returns:
        ``(new_height, new_width)``, each at least 1.
    """
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    if height <= width:
        return size, max(1, round(width * size / height))
    return max(1, round(height * size / width)), size


def resize(image: Tensor, size: tuple[int, int]) -> Tensor:
    """Resize an image with antialiased bilinear interpolation.

    Args:
        image: ``(C, H, W)`` float tensor.
        size: ``(new_height, new_width)``.

    Returns:
        ``(C, new_height, new_width)`` tensor, clamped to ``[0, 1]``.
    """
    if tuple(image.shape[-2:]) == tuple(size):
        return image
    out = F.interpolate(image[None], size=size, mode="bilinear", align_corners=False, antialias=True)[0]
    return out.clamp_(0.0, 1.0)


def resize_mask(mask: Tensor, size: tuple[int, int]) -> Tensor:
    """Resize a label mask by exact nearest-neighbour indexing (pixel centres, any integer dtype).

    Args:
        mask: ``(H, W)`` integer tensor.
        size: ``(new_height, new_width)``.

    Returns:
        ``(new_height, new_width)`` tensor of the same dtype; every value is one of the input's.
    """
    height, width = mask.shape[-2:]
    new_h, new_w = size
    if (height, width) == (new_h, new_w):
        return mask
    rows = (
        ((torch.arange(new_h, dtype=torch.float64) + 0.5) * height / new_h)
        .floor()
        .long()
        .clamp_(0, height - 1)
    )
    cols = (
        ((torch.arange(new_w, dtype=torch.float64) + 0.5) * width / new_w).floor().long().clamp_(0, width - 1)
    )
    return mask[..., rows[:, None], cols[None, :]]


def resize_shorter(image: Tensor, size: int) -> Tensor:
    """Resize so the shorter side is ``size`` (antialiased; keeps the aspect ratio).

    Args:
        image: ``(C, H, W)`` float tensor.
        size: Target shorter side.

    Returns:
        ``(C, h, w)`` tensor with ``min(h, w) == size``.
    """
    return resize(image, shorter_side_size(image.shape[-2], image.shape[-1], size))


def round_down_to_multiple(n: int, k: int) -> int:
    """Largest multiple of ``k`` not above ``n`` (``k`` if ``n < k``).

    Args:
        n: A length in pixels.
        k: The required factor (8 for VGG with three poolings, 16 for MobileNet ...).

    Returns:
        ``max(k, n - n % k)``.
    """
    if k < 1:
        raise ValueError(f"multiple must be >= 1, got {k}")
    return max(k, n - n % k)


def center_box(height: int, width: int, crop_height: int, crop_width: int) -> Box:
    """Centre crop box.

    Args:
        height: Input height.
        width: Input width.
        crop_height: Crop height (``<= height``).
        crop_width: Crop width (``<= width``).

    Returns:
        ``(top, left, crop_height, crop_width)``.
    """
    if crop_height > height or crop_width > width:
        raise ValueError(f"crop {crop_height}x{crop_width} larger than image {height}x{width}")
    return (height - crop_height) // 2, (width - crop_width) // 2, crop_height, crop_width


def random_box(height: int, width: int, crop: int, generator: torch.Generator | None = None) -> Box:
    """Uniformly random square crop box.

    Args:
        height: Input height (``>= crop``).
        width: Input width (``>= crop``).
        crop: Side of the square crop.
        generator: Random source (``None``: torch's global generator).

    Returns:
        ``(top, left, crop, crop)``.
    """
    if crop > height or crop > width:
        raise ValueError(f"crop {crop} larger than image {height}x{width}")
    top = int(torch.randint(0, height - crop + 1, (1,), generator=generator))
    left = int(torch.randint(0, width - crop + 1, (1,), generator=generator))
    return top, left, crop, crop


def crop(x: Tensor, box: Box) -> Tensor:
    """Crop the last two dimensions of an image ``(C, H, W)`` or a mask ``(H, W)``.

    Args:
        x: Tensor whose last two dimensions are ``H, W``.
        box: ``(top, left, height, width)``.

    Returns:
        The cropped view ``(..., height, width)``.
    """
    top, left, h, w = box
    return x[..., top : top + h, left : left + w]


def center_crop(x: Tensor, size: int | tuple[int, int]) -> Tensor:
    """Centre crop of an image ``(C, H, W)`` or mask ``(H, W)``.

    Args:
        x: Tensor whose last two dimensions are ``H, W``.
        size: Side of a square crop or ``(height, width)``.

    Returns:
        The cropped view.
    """
    crop_h, crop_w = (size, size) if isinstance(size, int) else size
    return crop(x, center_box(x.shape[-2], x.shape[-1], crop_h, crop_w))


def crop_to_multiple(x: Tensor, k: int) -> Tensor:
    """Centre-crop height and width down to multiples of ``k``.

    Args:
        x: ``(C, H, W)`` or ``(H, W)`` tensor with ``H, W >= k``.
        k: Required factor.

    Returns:
        ``(..., H - H % k, W - W % k)`` view.
    """
    height, width = x.shape[-2:]
    return center_crop(x, (round_down_to_multiple(height, k), round_down_to_multiple(width, k)))


def _resize_pair(image: Tensor, mask: Tensor | None, size: tuple[int, int]) -> tuple[Tensor, Tensor | None]:
    return resize(image, size), (None if mask is None else resize_mask(mask, size))


class Transform:
    """Base class: ``transform(image, mask=None, generator=None) -> (image, mask)``.

    Subclass and override :meth:`__call__` for custom preprocessing; the datamodule passes a generator
    seeded from ``(seed, epoch, index)`` so random choices are reproducible in any worker.
    """

    def __call__(
        self, image: Tensor, mask: Tensor | None = None, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """Apply the transform.

        Args:
            image: ``(3, H, W)`` float tensor in ``[0, 1]``.
            mask: Optional ``(H, W)`` int64 label mask aligned with ``image``.
            generator: Random source for random transforms.

        Returns:
            ``(image (3, h, w), mask (h, w) or None)``.
        """
        return image, mask


class TrainTransform(Transform):
    """Training crops: resize the shorter side to ``load_size``, then a random ``crop_size`` square.

    The AdaIN/SANet/IEC/SK habit (512 then 256). Images smaller than the crop after resizing (only
    possible with ``load_size=None``) are first upscaled so the shorter side equals ``crop_size``.

    Args:
        load_size: Shorter side after resizing; ``None`` keeps the original size.
        crop_size: Side of the random square crop.
        hflip: Also flip horizontally with probability 1/2.
    """

    def __init__(self, load_size: int | None = 512, crop_size: int = 256, hflip: bool = False) -> None:
        if crop_size < 1:
            raise ValueError(f"crop_size must be >= 1, got {crop_size}")
        if load_size is not None and load_size < crop_size:
            raise ValueError(f"load_size ({load_size}) must be >= crop_size ({crop_size})")
        self.load_size = load_size
        self.crop_size = crop_size
        self.hflip = hflip

    def __call__(
        self, image: Tensor, mask: Tensor | None = None, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """Resize, random-crop (and maybe flip) the image and its mask; see :class:`Transform`."""
        height, width = image.shape[-2:]
        if self.load_size is not None:
            image, mask = _resize_pair(image, mask, shorter_side_size(height, width, self.load_size))
        elif min(height, width) < self.crop_size:
            image, mask = _resize_pair(image, mask, shorter_side_size(height, width, self.crop_size))
        box = random_box(image.shape[-2], image.shape[-1], self.crop_size, generator)
        image = crop(image, box)
        mask = None if mask is None else crop(mask, box)
        if self.hflip and bool(torch.rand((), generator=generator) < 0.5):
            image = image.flip(-1)
            mask = None if mask is None else mask.flip(-1)
        return image.contiguous(), (None if mask is None else mask.contiguous())

    def __repr__(self) -> str:
        return f"TrainTransform(load_size={self.load_size}, crop_size={self.crop_size}, hflip={self.hflip})"


class EvalTransform(Transform):
    """Evaluation sizing: optional shorter-side resize, then a centre crop to multiples of ``k``.

    Images whose shorter side is below ``multiple_of`` are upscaled to it first.

    Args:
        size: Shorter side after resizing; ``None`` keeps the original resolution.
        multiple_of: Height and width are cropped down to multiples of this (8 for VGG: three poolings).
    """

    def __init__(self, size: int | None = None, multiple_of: int = 8) -> None:
        if size is not None and size < 1:
            raise ValueError(f"size must be >= 1 or None, got {size}")
        if multiple_of < 1:
            raise ValueError(f"multiple_of must be >= 1, got {multiple_of}")
        self.size = size
        self.multiple_of = multiple_of

    def __call__(
        self, image: Tensor, mask: Tensor | None = None, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """Resize and crop the image and its mask deterministically; see :class:`Transform`."""
        height, width = image.shape[-2:]
        target = self.size if self.size is not None else min(height, width)
        target = max(target, self.multiple_of)
        if target != min(height, width):
            image, mask = _resize_pair(image, mask, shorter_side_size(height, width, target))
        image = crop_to_multiple(image, self.multiple_of)
        mask = None if mask is None else crop_to_multiple(mask, self.multiple_of)
        return image.contiguous(), (None if mask is None else mask.contiguous())

    def __repr__(self) -> str:
        return f"EvalTransform(size={self.size}, multiple_of={self.multiple_of})"
