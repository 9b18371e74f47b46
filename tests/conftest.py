"""Shared test fixtures.

Real weights and photos live outside the repository (``../shared/data`` on the project's machines).
Tests find them through ``STYLELAB_SHARED_DATA``; without it, tests that need them are skipped and the
rest run on random weights and generated images.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch


def _shared_root() -> Path | None:
    value = os.environ.get("STYLELAB_SHARED_DATA")
    if not value:
        return None
    root = Path(value)
    return root if root.is_dir() else None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Root of the shared data folder (``weights/``, ``images/``); skips the test when absent."""
    root = _shared_root()
    if root is None:
        pytest.skip("STYLELAB_SHARED_DATA is not set to an existing folder")
    return root


@pytest.fixture(scope="session")
def shared_weights(shared_data: Path) -> Path:
    """Folder with the real weight files."""
    return shared_data / "weights"


@pytest.fixture(scope="session")
def shared_images(shared_data: Path) -> Path:
    """Folder with the real images (``content/``, ``style/``, ``photoreal_pairs/`` ...)."""
    return shared_data / "images"


@pytest.fixture(autouse=True)
def _seed_and_threads() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(2)
