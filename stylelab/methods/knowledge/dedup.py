r"""Blockwise near-duplicate removal by normalised cross-correlation (paper Eq. 2).

``S(a_i, a_j) = <a_i, a_j> / (||a_i|| ||a_j||)`` - plain cosine, no mean subtraction, as in the
paper and the reference code. Two rules:

* ``"earlier"`` (reference code): keep patch ``i`` iff **no earlier** patch ``j < i`` (raster order)
  has ``S > threshold``, whether or not ``j`` itself was kept.
* ``"kept"`` (greedy, what the paper's "merge redundant knowledge" suggests): keep ``i`` iff no
  earlier **kept** patch has ``S > threshold``.

Neither rule ever needs the ``P x P`` similarity matrix: rows are processed in blocks of
``block_size`` against column blocks of the same size, so the working memory is
``O(block_size^2 + block_size * D)`` beside the ``P x D`` patches themselves. With ``"earlier"`` the
column blocks are visited nearest first and a row leaves the computation as soon as one duplicate
is found (most patches duplicate a neighbouring window, so few rows travel far).

All-zero patches (dead ReLU regions) have no direction: the first one is kept and every later one
is its duplicate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor

DedupRule = Literal["earlier", "kept"]
_ZERO = 1e-12


def _normalised(block: Tensor) -> tuple[Tensor, Tensor]:
    """Unit rows of ``block (n, D)`` and the mask of zero rows."""
    norms = block.norm(dim=1)
    zero = norms <= _ZERO
    return block / norms.clamp_min(_ZERO)[:, None], zero


def dedup_mask(
    vectors: Tensor,
    threshold: float = 0.9,
    rule: DedupRule = "earlier",
    block_size: int = 1024,
    progress: Callable[[int], None] | None = None,
) -> Tensor:
    """Which patches survive de-duplication.

    Args:
        vectors: Patches flattened to ``(P, D)``, in raster (grid) order.
        threshold: Cosine above which a patch is a near-duplicate (paper/code: 0.9). A value
            ``>= 1`` keeps every non-zero patch.
        rule: ``"earlier"`` (reference code) or ``"kept"`` (greedy); see the module docstring.
        block_size: Rows (and columns) per similarity block; bounds the working memory.
        progress: Called with the number of rows finished after each row block.

    Returns:
        Keep mask ``(P,)`` bool on the device of ``vectors``.

    Raises:
        ValueError: On a non-2-D input, a bad rule or a block size below 1.
    """
    if vectors.dim() != 2:
        raise ValueError(f"vectors must be (P, D); got shape {tuple(vectors.shape)}")
    if rule not in ("earlier", "kept"):
        raise ValueError(f"rule must be 'earlier' or 'kept'; got {rule!r}")
    if block_size < 1:
        raise ValueError(f"block_size must be >= 1; got {block_size}")
    count = vectors.shape[0]
    keep = torch.ones(count, dtype=torch.bool, device=vectors.device)
    zero_seen = False
    kept_unit: list[Tensor] = []  # "kept" rule: unit vectors of the kept patches so far
    for start in range(0, count, block_size):
        stop = min(start + block_size, count)
        rows, zero = _normalised(vectors[start:stop])
        dup = zero.clone()
        if zero.any():  # first zero patch overall is kept, the others are duplicates
            first = int(torch.nonzero(zero)[0])
            if not zero_seen:
                dup[first] = False
            zero_seen = True
        if rule == "earlier":
            _earlier_block(vectors, rows, dup, start, threshold, block_size)
        else:
            _kept_block(rows, dup, kept_unit, threshold)
        keep[start:stop] = ~dup
        if progress is not None:
            progress(stop - start)
    return keep


def _earlier_block(
    vectors: Tensor, rows: Tensor, dup: Tensor, start: int, threshold: float, block_size: int
) -> None:
    """Mark rows of one block that have a near-duplicate among all earlier patches (in place)."""
    n = rows.shape[0]
    # the diagonal block: strictly earlier columns only
    sim = rows @ rows.T
    earlier = torch.ones(n, n, dtype=torch.bool, device=rows.device).tril_(-1)
    dup |= ((sim > threshold) & earlier).any(dim=1)
    # earlier column blocks, nearest first; rows leave as soon as they are decided
    for col_stop in range(start, 0, -block_size):
        open_rows = torch.nonzero(~dup).flatten()
        if open_rows.numel() == 0:
            return
        cols, _ = _normalised(vectors[max(0, col_stop - block_size) : col_stop])
        hit = ((rows[open_rows] @ cols.T) > threshold).any(dim=1)
        dup[open_rows[hit]] = True


def _kept_block(rows: Tensor, dup: Tensor, kept_unit: list[Tensor], threshold: float) -> None:
    """Greedy rule for one block: compare with kept patches, then sequentially within the block."""
    for kept in kept_unit:
        open_rows = torch.nonzero(~dup).flatten()
        if open_rows.numel() == 0:
            break
        hit = ((rows[open_rows] @ kept.T) > threshold).any(dim=1)
        dup[open_rows[hit]] = True
    candidates = torch.nonzero(~dup).flatten()
    if candidates.numel():
        sim = (rows[candidates] @ rows[candidates].T > threshold).cpu()
        decided = dup[candidates].cpu().clone()
        chosen: list[int] = []
        for i in range(candidates.numel()):
            if chosen and bool(sim[i, chosen].any()):
                decided[i] = True
            else:
                chosen.append(i)
        dup[candidates] = decided.to(dup.device)
    new = torch.nonzero(~dup).flatten()
    if new.numel():
        kept_unit.append(rows[new])
