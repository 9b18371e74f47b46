"""Deterministic train/val/test splits and fixed evaluation pairs.

Items are ordered by a salted SHA-256 of their key (a location-independent name such as the path
relative to the dataset root); the first ``n_test`` go to test, the next ``n_val`` to val, the rest
to train. The order of existing items never changes when files are added, so adding images moves at
most a few items across a split boundary instead of reshuffling everything.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


def stable_hash(*parts: object) -> int:
    """64-bit integer hash of the parts' ``str`` forms, identical across runs and machines."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def _count(fraction: float, n: int) -> int:
    return 0 if fraction <= 0 else max(1, round(fraction * n))


def split_indices(
    keys: Sequence[str], val_fraction: float = 0.1, test_fraction: float = 0.1, seed: int = 0
) -> dict[str, list[int]]:
    """Split items into disjoint train/val/test index lists.

    A non-zero fraction always gets at least one item. With fewer than three items there is no
    room for disjoint splits: val and test then reuse the training items (a warning says so).

    Args:
        keys: One stable name per item.
        val_fraction: Share of items for validation, in ``[0, 1)``.
        test_fraction: Share of items for testing, in ``[0, 1)``.
        seed: Salt of the hash; another seed gives another split.

    Returns:
        ``{"train": [...], "val": [...], "test": [...]}`` with indices into ``keys``, each list sorted.

    Raises:
        ValueError: Fractions out of range or summing to 1 or more, or no keys.
    """
    if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError(
            f"need 0 <= val_fraction, test_fraction and sum < 1; got {val_fraction}, {test_fraction}"
        )
    n = len(keys)
    if n == 0:
        raise ValueError("cannot split an empty source")
    n_test, n_val = _count(test_fraction, n), _count(val_fraction, n)
    if n_test + n_val >= n:
        if n < 3:
            log.warning(
                "only %d image(s): val/test reuse the training images (no disjoint split possible)", n
            )
            every = list(range(n))
            return {"train": every, "val": every if n_val else [], "test": every if n_test else []}
        while n_test + n_val >= n:  # keep at least one training item
            if n_val >= n_test:
                n_val -= 1
            else:
                n_test -= 1
    order = sorted(range(n), key=lambda i: (stable_hash(seed, keys[i]), keys[i], i))
    return {
        "test": sorted(order[:n_test]),
        "val": sorted(order[n_test : n_test + n_val]),
        "train": sorted(order[n_test + n_val :]),
    }


def eval_pairs(
    content_keys: Sequence[str], style_keys: Sequence[str], count: int, seed: int = 0, salt: str = "val"
) -> list[tuple[int, int]]:
    """Fixed (content, style) pairs for evaluation, covering the contents round-robin.

    Contents are visited in hash order; the ``r``-th visit of a content pairs it with its ``r``-th
    style in a per-content hash order, so every pair is distinct and the result only depends on the
    keys, ``seed`` and ``salt``.

    Args:
        content_keys: Stable names of the candidate content images.
        style_keys: Stable names of the candidate style images.
        count: Number of pairs wanted; fewer come back if ``len(content) * len(style) < count``.
        seed: Salt of the hash.
        salt: Extra salt (the stage name) so val and test pairs are drawn independently.

    Returns:
        ``(content_index, style_index)`` pairs, indices into the key lists.
    """
    if not content_keys or not style_keys or count <= 0:
        return []
    contents = sorted(range(len(content_keys)), key=lambda i: (stable_hash(seed, salt, content_keys[i]), i))
    pairs: list[tuple[int, int]] = []
    style_orders: dict[int, list[int]] = {}
    for k in range(min(count, len(content_keys) * len(style_keys))):
        c = contents[k % len(contents)]
        if c not in style_orders:
            style_orders[c] = sorted(
                range(len(style_keys)),
                key=lambda s: (stable_hash(seed, salt, content_keys[c], style_keys[s]), s),
            )
        pairs.append((c, style_orders[c][k // len(contents)]))
    return pairs
