"""Tiny tensors only: one intra-op thread avoids OpenMP oversubscription on busy shared CPUs."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread(_seed_and_threads: None) -> None:
    torch.set_num_threads(1)
