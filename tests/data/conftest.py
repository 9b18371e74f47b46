"""Fixtures that write small test images (good and broken) into a temporary folder."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def png16_bytes(array: np.ndarray) -> bytes:
    """Encode a uint16 ``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)`` array as a 16-bit PNG by hand."""
    if array.ndim == 2:
        array = array[..., None]
    height, width, channels = array.shape
    colour_type = {1: 0, 3: 2, 4: 6}[channels]
    raw = b"".join(b"\x00" + array[y].astype(">u2").tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class ImageFactory:
    """Writes test files below ``root``; every method returns the written path."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, name: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def rgb(self, name: str, width: int = 32, height: int = 24, seed: int = 0, **save_kwargs) -> Path:
        array = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
        path = self._path(name)
        Image.fromarray(array).save(path, **save_kwargs)
        return path

    def array(self, name: str, array: np.ndarray, mode: str | None = None, **save_kwargs) -> Path:
        path = self._path(name)
        image = Image.fromarray(array) if mode is None else Image.fromarray(array, mode=mode)
        image.save(path, **save_kwargs)
        return path

    def png16(self, name: str, array: np.ndarray) -> Path:
        path = self._path(name)
        path.write_bytes(png16_bytes(array))
        return path

    def truncated_jpeg(self, name: str, width: int = 64, height: int = 48) -> Path:
        good = self.rgb(name, width, height, quality=95)
        data = good.read_bytes()
        good.write_bytes(data[: len(data) * 2 // 3])
        return good

    def text(self, name: str, content: bytes = b"this is not an image\n") -> Path:
        path = self._path(name)
        path.write_bytes(content)
        return path


@pytest.fixture
def images(tmp_path: Path) -> ImageFactory:
    """Factory writing images into ``tmp_path``."""
    return ImageFactory(tmp_path)
