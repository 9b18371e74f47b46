"""Robust image reading and writing.

Every image enters the library through :func:`load_image`, which returns a ``(3, H, W)`` float32 RGB
tensor in ``[0, 1]`` whatever the file holds:

* EXIF orientation is applied (a phone photo tagged "rotate 90" comes out upright).
* Grayscale (``1``, ``L``, ``I;16``, ``I``, ``F``), palette, CMYK, YCbCr ... become RGB.
* 16-bit grayscale (``I;16``/``I``) is scaled by 65535 (not clipped to 255); ``F`` (float) is taken as
  already in ``[0, 1]`` and clamped. 16-bit *colour* PNG/TIFF are reduced by Pillow to their high byte,
  i.e. scaled to 8-bit precision (never clipped).
* Transparency (``RGBA``, ``LA``, ``PA``, palette with a transparent colour) is composited over
  **white**, the usual background of artwork scans and logos.
* Corrupt, truncated, non-image and missing files raise :class:`UnreadableImageError`; truncation is
  never padded silently, even when ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES`` was switched on elsewhere.
* Images with more than ``max_pixels`` pixels raise :class:`UnreadableImageError` before decoding
  (decompression-bomb guard). Pillow has its own hard limit (``2 * PIL.Image.MAX_IMAGE_PIXELS``); to
  allow even larger images raise that too.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from PIL import Image, ImageFile, ImageOps
from torch import Tensor

from stylelab.data.errors import UnreadableImageError
from stylelab.utils.io import atomic_write

IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")
"""File extensions (lower case) that folder sources pick up by default."""

DEFAULT_MAX_PIXELS: int = 100_000_000
"""Default decompression-bomb guard: 100 megapixels (e.g. 12000 x 8333)."""

_TRUNCATION_LOCK = threading.RLock()


@contextlib.contextmanager
def _strict_truncation() -> Iterator[None]:
    """Make Pillow raise on truncated data for the duration of the block.

    ``ImageFile.LOAD_TRUNCATED_IMAGES`` is a process-wide flag; when some other code switched it on,
    it is switched off (under a lock) while we decode and restored afterwards.
    """
    if not ImageFile.LOAD_TRUNCATED_IMAGES:
        yield
        return
    with _TRUNCATION_LOCK:
        previous = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


def open_image(
    source: str | os.PathLike[str] | BinaryIO, *, name: str | None = None, max_pixels: int | None = None
) -> Image.Image:
    """Open, size-check, fully decode and EXIF-orient an image with Pillow.

    Args:
        source: File path or binary file object.
        name: Name used in error messages (defaults to the path).
        max_pixels: Refuse images with more pixels than this (``None``: :data:`DEFAULT_MAX_PIXELS`).

    Returns:
        The decoded Pillow image (any mode), orientation already applied.

    Raises:
        UnreadableImageError: The file is missing, not an image, corrupt, truncated or too large.
    """
    label = (
        name
        if name is not None
        else (os.fspath(source) if isinstance(source, (str, os.PathLike)) else "<bytes>")
    )
    limit = DEFAULT_MAX_PIXELS if max_pixels is None else int(max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with _strict_truncation():
                image = Image.open(source)
                pixels = image.width * image.height
                if pixels > limit:
                    raise UnreadableImageError(
                        label,
                        f"{image.width}x{image.height} = {pixels} pixels exceeds max_pixels={limit} "
                        "(decompression-bomb guard); raise max_pixels / max_image_pixels if you trust it",
                    )
                image.load()
    except UnreadableImageError:
        raise
    except FileNotFoundError as error:
        raise UnreadableImageError(label, "file not found") from error
    except Image.DecompressionBombError as error:
        raise UnreadableImageError(label, f"{error} Raise PIL.Image.MAX_IMAGE_PIXELS to allow it.") from error
    except Image.UnidentifiedImageError as error:
        raise UnreadableImageError(label, "not an image file Pillow can identify") from error
    except Exception as error:  # Pillow raises many types (OSError, SyntaxError, ...)
        raise UnreadableImageError(label, f"{type(error).__name__}: {error}") from error
    with contextlib.suppress(Exception):  # a broken EXIF block must not make the pixels unreadable
        ImageOps.exif_transpose(image, in_place=True)
    return image


def pil_to_tensor(image: Image.Image) -> Tensor:
    """Convert a decoded Pillow image of any mode to an RGB float tensor.

    Args:
        image: Decoded Pillow image.

    Returns:
        Tensor of shape ``(3, H, W)``, float32, RGB in ``[0, 1]``.
    """
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        gray = np.asarray(image, dtype=np.float64) / 65535.0
        array = np.repeat(np.clip(gray, 0.0, 1.0)[..., None], 3, axis=2)
    elif mode == "F":
        gray = np.nan_to_num(np.asarray(image, dtype=np.float64), nan=0.0, posinf=1.0, neginf=0.0)
        array = np.repeat(np.clip(gray, 0.0, 1.0)[..., None], 3, axis=2)
    elif mode in ("RGBA", "LA", "La", "PA", "RGBa") or (mode == "P" and "transparency" in image.info):
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float64) / 255.0
        alpha = rgba[..., 3:4]
        array = rgba[..., :3] * alpha + (1.0 - alpha)  # composite over white
    elif mode in ("1", "L"):
        gray = np.asarray(image.convert("L"), dtype=np.float64) / 255.0
        array = np.repeat(gray[..., None], 3, axis=2)
    else:  # RGB, P, CMYK, YCbCr, LAB, HSV, RGBX ...
        array = np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1), dtype=np.float32))


def load_image(path: str | os.PathLike[str], *, max_pixels: int | None = None) -> Tensor:
    """Read an image file as an RGB float tensor.

    Args:
        path: Image file (any format Pillow reads).
        max_pixels: Refuse images with more pixels than this (``None``: :data:`DEFAULT_MAX_PIXELS`).

    Returns:
        Tensor of shape ``(3, H, W)``, float32, RGB in ``[0, 1]`` (see the module docstring for the
        conversion rules: EXIF orientation, 16-bit scaling, alpha over white).

    Raises:
        UnreadableImageError: Missing, corrupt, truncated, non-image or over-sized file.
    """
    image = open_image(path, max_pixels=max_pixels)
    try:
        return pil_to_tensor(image)
    except Exception as error:
        raise UnreadableImageError(os.fspath(path), f"cannot convert mode {image.mode}: {error}") from error


def decode_image(data: bytes, *, name: str = "<bytes>", max_pixels: int | None = None) -> Tensor:
    """Decode an encoded image held in memory (e.g. a Hugging Face ``Image`` feature's bytes).

    Args:
        data: Encoded file content (JPEG, PNG, ...).
        name: Identifier used in error messages.
        max_pixels: Refuse images with more pixels than this (``None``: :data:`DEFAULT_MAX_PIXELS`).

    Returns:
        Tensor of shape ``(3, H, W)``, float32, RGB in ``[0, 1]``.

    Raises:
        UnreadableImageError: The bytes are not a readable image.
    """
    image = open_image(io.BytesIO(data), name=name, max_pixels=max_pixels)
    try:
        return pil_to_tensor(image)
    except Exception as error:
        raise UnreadableImageError(name, f"cannot convert mode {image.mode}: {error}") from error


def tensor_to_pil(image: Tensor) -> Image.Image:
    """Convert an image tensor to an 8-bit Pillow image.

    Args:
        image: ``(3, H, W)``, ``(1, 3, H, W)``, ``(1, H, W)`` or ``(H, W)`` float tensor in ``[0, 1]``
            (values outside are clamped).

    Returns:
        An ``RGB`` (or ``L`` for one channel) Pillow image, values rounded to 0..255.

    Raises:
        ValueError: Wrong shape or non-finite values.
    """
    x = image.detach().to("cpu", torch.float32)
    if x.dim() == 4 and x.shape[0] == 1:
        x = x[0]
    if x.dim() == 2:
        x = x[None]
    if x.dim() != 3 or x.shape[0] not in (1, 3):
        raise ValueError(f"expected an image of shape (3, H, W) or (1, H, W), got {tuple(image.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError("image contains NaN or infinite values; refusing to save it")
    array = (x.clamp(0.0, 1.0) * 255.0).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return Image.fromarray(array[..., 0] if array.shape[2] == 1 else array)


def save_image(image: Tensor, path: str | os.PathLike[str]) -> Path:
    """Write an image tensor to disk atomically (a reader never sees a half-written file).

    The format follows the suffix (``.png`` recommended, lossless); a path without a suffix Pillow
    knows is written as PNG.

    Args:
        image: ``(3, H, W)`` (or ``(1, 3, H, W)``, ``(1, H, W)``, ``(H, W)``) float tensor in ``[0, 1]``.
        path: Destination file; parent folders are created.

    Returns:
        The destination path.

    Raises:
        ValueError: Wrong shape or non-finite values.
    """
    target = Path(path)
    fmt = Image.registered_extensions().get(target.suffix.lower(), "PNG")
    picture = tensor_to_pil(image)
    with atomic_write(target, "wb") as handle:
        picture.save(handle, format=fmt)
    return target
