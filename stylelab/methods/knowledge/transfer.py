r"""Knowledge transfer operators on matched patch pairs (paper Eq. 6-7).

``a_s`` is a content (query) patch, ``a_t`` its matched library patch, both ``(Q, C, k, k)``.

* geometric swap (Eq. 6): ``a_s := a_t``;
* statistics swap (Eq. 7): ``a_s := (a_s - mu(a_s)) / (sigma(a_s) + eps) * sigma(a_t) + mu(a_t)``, with
  mean and standard deviation per patch and per channel over the ``k x k`` positions; the reference
  code uses the unbiased standard deviation and ``eps = 2e-5`` added to it.
"""

from __future__ import annotations

from typing import Literal

from torch import Tensor

Swap = Literal["geometric", "statistics"]


def geometric_swap(content: Tensor, matched: Tensor) -> Tensor:
    """Eq. 6: every content patch is replaced by its match.

    Args:
        content: ``(Q, C, k, k)`` content patches (only the shape is checked).
        matched: ``(Q, C, k, k)`` matched library patches.

    Returns:
        ``matched`` (same tensor).
    """
    if content.shape != matched.shape:
        raise ValueError(f"patch shapes differ: {tuple(content.shape)} vs {tuple(matched.shape)}")
    return matched


def statistics_swap(content: Tensor, matched: Tensor, eps: float = 2e-5, unbiased: bool = True) -> Tensor:
    r"""Eq. 7: give each content patch the per-channel mean and std of its match.

    Args:
        content: ``(Q, C, k, k)`` content patches.
        matched: ``(Q, C, k, k)`` matched library patches.
        eps: Added to the content std (reference code 2e-5).
        unbiased: Unbiased std (``N - 1``; reference code) or biased (``N``).

    Returns:
        ``(Q, C, k, k)`` patches with ``mu = mu(matched)`` and ``sigma ~= sigma(matched)`` per channel.
    """
    if content.shape != matched.shape:
        raise ValueError(f"patch shapes differ: {tuple(content.shape)} vs {tuple(matched.shape)}")
    if content.shape[-1] * content.shape[-2] < 2 and unbiased:
        raise ValueError("an unbiased std needs at least 2 positions per patch")
    correction = 1 if unbiased else 0
    c = content.flatten(2)
    m = matched.flatten(2)
    mu_c, sd_c = c.mean(dim=2, keepdim=True), c.std(dim=2, keepdim=True, correction=correction)
    mu_m, sd_m = m.mean(dim=2, keepdim=True), m.std(dim=2, keepdim=True, correction=correction)
    return ((c - mu_c) / (sd_c + eps) * sd_m + mu_m).view_as(content)


def swap_patches(content: Tensor, matched: Tensor, swap: Swap = "geometric", eps: float = 2e-5) -> Tensor:
    """Apply the chosen operator (``"geometric"`` Eq. 6 or ``"statistics"`` Eq. 7)."""
    if swap == "geometric":
        return geometric_swap(content, matched)
    if swap == "statistics":
        return statistics_swap(content, matched, eps=eps)
    raise ValueError(f"swap must be 'geometric' or 'statistics'; got {swap!r}")
