"""An epoch-aware sampler: yields ``(index, epoch)`` so datasets can seed per item and epoch."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler

from stylelab.data.splits import stable_hash


class EpochSampler(Sampler[tuple[int, int]]):
    """Shuffled indices tagged with the epoch, reproducible from ``seed``.

    Lightning calls :meth:`set_epoch` before every epoch; without Lightning the epoch advances by
    one on every ``iter()``. The dataset derives all randomness (style choice, crops) from
    ``(seed, epoch, index)``, so results do not depend on the number of workers.

    Args:
        num_items: Dataset length.
        seed: Base seed of the shuffling.
        shuffle: Shuffle (``False``: ``0..n-1`` in order).
        num_samples: Items per epoch (``None``: ``num_items``); more than ``num_items`` repeats the
            data with fresh permutations, handy for tiny sets.
    """

    def __init__(
        self, num_items: int, seed: int = 0, shuffle: bool = True, num_samples: int | None = None
    ) -> None:
        if num_items < 0 or (num_samples is not None and num_samples < 1):
            raise ValueError(f"invalid sampler sizes: num_items={num_items}, num_samples={num_samples}")
        self.num_items = num_items
        self.seed = seed
        self.shuffle = shuffle
        self.num_samples = num_samples
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch of the next iteration."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.num_items if self.num_samples is None else self.num_samples

    def __iter__(self) -> Iterator[tuple[int, int]]:
        epoch = self.epoch
        self.epoch += 1
        total = len(self)
        if self.num_items == 0:
            return iter(())
        order: list[int] = []
        round_ = 0
        while len(order) < total:
            if self.shuffle:
                generator = torch.Generator().manual_seed(
                    stable_hash(self.seed, "order", epoch, round_) % 2**63
                )
                order.extend(torch.randperm(self.num_items, generator=generator).tolist())
            else:
                order.extend(range(self.num_items))
            round_ += 1
        return iter([(index, epoch) for index in order[:total]])
