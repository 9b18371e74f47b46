"""Reduce a per-sample loss vector the way ``torch.nn`` losses do."""

from __future__ import annotations

from typing import Literal

from torch import Tensor

Reduction = Literal["none", "mean", "sum"]


def reduce_per_sample(values: Tensor, reduction: Reduction) -> Tensor:
    """Reduce per-sample values over the batch.

    Args:
        values: Per-sample values ``(B,)``.
        reduction: ``"none"`` returns ``values`` unchanged, ``"mean"`` their mean, ``"sum"`` their sum.

    Returns:
        ``(B,)`` for ``"none"``, otherwise a scalar.

    Raises:
        ValueError: If ``reduction`` is unknown.
    """
    if reduction == "none":
        return values
    if reduction == "mean":
        return values.mean()
    if reduction == "sum":
        return values.sum()
    raise ValueError(f"reduction must be 'none', 'mean' or 'sum'; got {reduction!r}")
