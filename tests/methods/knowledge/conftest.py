"""Fixtures for knowledge-transfer tests: random-weight encoder, small synthetic images, a library root."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylelab.methods.knowledge.encoder import EncoderSpec
from stylelab.methods.knowledge.library import BuildSettings

RANDOM = EncoderSpec(weights=None)


def write_pictures(folder: Path, sizes: list[tuple[int, int]], seed: int = 0) -> list[Path]:
    """Textured RGB pictures (stripes, blobs and noise) of the given ``(H, W)`` sizes."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i, (h, w) in enumerate(sizes):
        y, x = np.mgrid[0:h, 0:w]
        base = np.stack([np.sin(x / rng.uniform(2, 6)), np.cos(y / rng.uniform(2, 6)),
                         np.sin((x * rng.uniform(0.5, 1.5) + y) / 5)], -1)  # fmt: skip
        picture = (base * 0.35 + 0.5 + rng.normal(0, 0.08, (h, w, 3))).clip(0, 1)
        path = folder / f"pic_{i:02d}.png"
        Image.fromarray((picture * 255).astype(np.uint8)).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def library_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty library root, also set as ``$STYLELAB_LIBRARIES``."""
    root = tmp_path / "libraries"
    monkeypatch.setenv("STYLELAB_LIBRARIES", str(root))
    return root


@pytest.fixture
def pictures(tmp_path: Path) -> list[Path]:
    """Two small style pictures."""
    return write_pictures(tmp_path / "styles", [(48, 56), (40, 48)], seed=1)


@pytest.fixture
def small_settings() -> BuildSettings:
    """Native size (no resizing to 512), code window/stride/threshold."""
    return BuildSettings(window=4, stride=1, style_size=None, dedup_threshold=0.9)
