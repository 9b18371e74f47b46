"""ShuffleNet channel shuffle and its inverse."""

from __future__ import annotations

from torch import Tensor


def _check(x: Tensor, groups: int) -> None:
    if x.dim() < 2:
        raise ValueError(f"x must be (B, C, ...); got shape {tuple(x.shape)}")
    if groups < 1 or x.shape[1] % groups:
        raise ValueError(
            f"groups must be a positive divisor of the channel count; got groups={groups} for C={x.shape[1]}"
        )


def group_shuffle(x: Tensor, groups: int) -> Tensor:
    r"""Channel shuffle (ShuffleNet): reshape to ``(g, C/g)``, transpose, flatten.

    Output channel ``k`` is input channel ``(k % g) * (C / g) + k // g``: the first output channels
    take the first channel of each group in turn. Example ``C = 6, g = 2``: ``[0, 3, 1, 4, 2, 5]``.

    Args:
        x: Tensor ``(B, C, ...)`` (any trailing dims).
        groups: Number of groups ``g``; must divide ``C``.

    Returns:
        Shuffled tensor, same shape.

    Raises:
        ValueError: If ``C % groups != 0`` or ``x`` has fewer than 2 dims.
    """
    _check(x, groups)
    b, c = x.shape[:2]
    return x.reshape(b, groups, c // groups, *x.shape[2:]).transpose(1, 2).reshape(x.shape)


def group_unshuffle(x: Tensor, groups: int) -> Tensor:
    r"""Inverse of :func:`group_shuffle` with the same ``groups``.

    Equal to ``group_shuffle(x, C // groups)``.

    Args:
        x: Tensor ``(B, C, ...)``.
        groups: The ``groups`` passed to :func:`group_shuffle`.

    Returns:
        Unshuffled tensor, same shape.

    Raises:
        ValueError: If ``C % groups != 0`` or ``x`` has fewer than 2 dims.
    """
    _check(x, groups)
    b, c = x.shape[:2]
    return x.reshape(b, c // groups, groups, *x.shape[2:]).transpose(1, 2).reshape(x.shape)
