"""Fixtures for CLI integration tests: small real-looking datasets in every supported layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs"

#: Overrides that make any method config run in seconds on CPU.
FAST = [
    "--trainer.accelerator=cpu",
    "--trainer.logger=false",
    "--trainer.enable_progress_bar=false",
    "--trainer.enable_model_summary=false",
    "--data.init_args.load_size=72",
    "--data.init_args.crop_size=64",
    "--data.init_args.eval_size=64",
    "--data.init_args.batch_size=2",
    "--data.init_args.num_workers=0",
]


def _picture(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    h, w = size
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([np.sin(x / rng.uniform(3, 9)), np.cos(y / rng.uniform(3, 9)), np.sin((x + y) / 7)], -1)
    noise = rng.normal(0, 0.1, (h, w, 3))
    return Image.fromarray(((base * 0.4 + 0.5 + noise).clip(0, 1) * 255).astype(np.uint8))


def write_images(
    folder: Path, count: int, seed: int, size: tuple[int, int] = (80, 96), ext: str = "jpg"
) -> list[Path]:
    """Write ``count`` small synthetic photos into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        path = folder / f"img_{i:02d}.{ext}"
        _picture(rng, size).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def dataset_tree(tmp_path: Path) -> Path:
    """A working directory holding every layout the data configs point at (``data/...``)."""
    data = tmp_path / "data"
    write_images(data / "content", 10, 0)
    write_images(data / "style", 10, 1)
    write_images(data / "coco" / "train2014", 10, 2)
    write_images(data / "wikiart" / "Impressionism", 5, 3)
    write_images(data / "wikiart" / "Cubism", 5, 4)
    write_images(data / "pst" / "content", 10, 5)
    write_images(data / "pst" / "style", 10, 6)
    for kind in ("content_seg", "style_seg"):
        folder = data / "pst" / kind
        folder.mkdir(parents=True)
        for i in range(10):
            mask = np.zeros((80, 96, 3), np.uint8)
            mask[:40] = (255, 0, 0)
            mask[40:] = (0, 0, 255)
            Image.fromarray(mask).save(folder / f"img_{i:02d}.png")
    return tmp_path
