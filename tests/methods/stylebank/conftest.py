"""Tiny data and trainers for the StyleBank tests (random loss VGG, 32 px crops, a few styles)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lightning as L
import pytest

from stylelab.data import GeneratedTextures, StyleTransferDataModule


def tiny_datamodule(styles: int = 3, seed: int = 0, **overrides: Any) -> StyleTransferDataModule:
    """Generated textures as content (cheap to load) and ``styles`` other textures as the style set."""
    options: dict[str, Any] = {
        "content": GeneratedTextures(count=6, size=48, seed=100),
        "style": GeneratedTextures(count=styles, size=32, seed=seed),
        "load_size": 20,
        "crop_size": 16,
        "eval_size": 16,
        "batch_size": 2,
        "samples_per_epoch": 12,
        "num_val_pairs": 1,
    }
    options.update(overrides)
    return StyleTransferDataModule(**options)


def tiny_trainer(max_steps: int, callbacks: list[L.Callback] | None = None) -> L.Trainer:
    """CPU trainer without logging, checkpoints or validation."""
    return L.Trainer(
        max_steps=max_steps,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=0,
        callbacks=callbacks or [],
    )


@pytest.fixture
def make_datamodule() -> Callable[..., StyleTransferDataModule]:
    """Factory of tiny datamodules."""
    return tiny_datamodule


@pytest.fixture
def make_trainer() -> Callable[..., L.Trainer]:
    """Factory of tiny trainers."""
    return tiny_trainer
