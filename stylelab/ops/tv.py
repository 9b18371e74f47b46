"""Anisotropic total variation."""

from __future__ import annotations

from typing import Literal

from torch import Tensor

from stylelab.ops._shapes import check_image_like


def total_variation(x: Tensor, reduction: Literal["mean", "sum"] = "mean") -> Tensor:
    r"""Anisotropic (L1) total variation of each sample.

    With vertical differences ``dv = x[:, :, 1:, :] - x[:, :, :-1, :]`` (``C (H-1) W`` values) and
    horizontal differences ``dh = x[:, :, :, 1:] - x[:, :, :, :-1]`` (``C H (W-1)`` values)::

        "sum":  TV = sum |dv| + sum |dh|
        "mean": TV = mean |dv| + mean |dh|      (each direction averaged over its own count)

    A direction with no differences (``H == 1`` or ``W == 1``) contributes 0.

    Args:
        x: Images or features ``(B, C, H, W)``.
        reduction: ``"mean"`` or ``"sum"`` as above.

    Returns:
        Per-sample total variation ``(B,)``.

    Raises:
        ValueError: If ``x`` is not 4-D or ``reduction`` is unknown.
    """
    check_image_like(x)
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum'; got {reduction!r}")
    dv = (x[:, :, 1:, :] - x[:, :, :-1, :]).abs().flatten(1)
    dh = (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().flatten(1)
    total = x.new_zeros(x.shape[0])
    for d in (dv, dh):
        if d.shape[1]:
            total = total + (d.mean(dim=1) if reduction == "mean" else d.sum(dim=1))
    return total
