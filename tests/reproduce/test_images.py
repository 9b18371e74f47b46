"""Image loading of the experiments and the run stopwatch."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from stylelab.reproduce.images import load_resized, load_square, optional_shared_images, shared_root, square
from stylelab.reproduce.timing import Stopwatch


def test_square_takes_the_centre_after_resizing_the_shorter_side() -> None:
    image = torch.zeros(1, 3, 4, 12)
    image[..., 4:8] = 1.0  # the middle third is white
    out = square(image, 4)
    assert out.shape == (1, 3, 4, 4)
    assert torch.equal(out, torch.ones(1, 3, 4, 4))  # no resize needed: exactly the middle columns
    assert square(image[0], 2).shape == (3, 2, 2)


def test_loaders_read_files(tmp_path: Path) -> None:
    pixels = np.random.default_rng(0).integers(0, 256, size=(30, 50, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    assert load_square(tmp_path / "a.png", 16).shape == (1, 3, 16, 16)
    resized = load_resized(tmp_path / "a.png", (30, 50))
    assert torch.allclose(resized[0].permute(1, 2, 0), torch.from_numpy(pixels).float() / 255, atol=1e-6)


def test_shared_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STYLELAB_SHARED_DATA", raising=False)
    monkeypatch.delenv("STYLELAB_WEIGHTS", raising=False)
    assert optional_shared_images() is None
    with pytest.raises(SystemExit, match="STYLELAB_SHARED_DATA"):
        shared_root()
    (tmp_path / "images").mkdir()
    assert shared_root(tmp_path) == tmp_path
    import os

    assert os.environ["STYLELAB_WEIGHTS"] == str(tmp_path / "weights")


def test_stopwatch_counts_wall_time() -> None:
    watch = Stopwatch()
    time.sleep(0.05)
    assert 0.04 < watch.wall_s < 5
    watch.restart()
    assert watch.wall_s < 0.04
    assert watch.describe().endswith("s CPU")


def test_longer_side_size_rounds_down_to_the_multiple() -> None:
    from stylelab.reproduce.images import longer_side_size

    assert longer_side_size(1000, 1500, 384, multiple=16) == (256, 384)  # 256.0 x 384
    assert longer_side_size(300, 500, 384, multiple=16) == (224, 384)  # 230.4 -> 224
    assert longer_side_size(300, 500, 512, multiple=8) == (304, 512)  # upscaled
    assert longer_side_size(300, 500, 512, multiple=8, upscale=False) == (296, 496)  # kept, rounded
    assert longer_side_size(2, 500, 512, multiple=8) == (8, 512)  # never below the multiple


def test_fit_longer_side_matches_interpolate() -> None:
    import torch.nn.functional as F

    from stylelab.reproduce.images import fit_longer_side

    image = torch.rand(1, 3, 30, 50, generator=torch.Generator().manual_seed(0))
    out = fit_longer_side(image, 20, multiple=4, mode="bicubic")
    expected = F.interpolate(image, size=(12, 20), mode="bicubic", antialias=True, align_corners=False)
    assert out.shape == (1, 3, 12, 20)
    assert torch.equal(out, expected.clamp(0, 1))
    assert float(out.min()) >= 0 and float(out.max()) <= 1
    assert torch.equal(fit_longer_side(image, 60, upscale=False), image)  # same size: unchanged
