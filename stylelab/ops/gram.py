"""Per-sample Gram matrix of a feature map."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from stylelab.ops._shapes import as_features

GramNormalization = Literal["none", "N", "CN"]


def gram_matrix(x: Tensor, normalize: GramNormalization = "CN") -> Tensor:
    r"""Uncentred Gram matrix of each sample's features.

    With ``F`` the ``C x N`` feature matrix of one sample (``N = H * W`` positions)::

        G = F F^T / d,   d = 1 ("none"), N ("N") or C * N ("CN")

    i.e. ``G[i, j] = sum_n F[i, n] F[j, n] / d``. The batch is never folded into the rows: each sample
    gets its own ``C x C`` matrix (folding, ``(B*C) x N``, is a known bug of some StyleBank ports).
    ``"CN"`` is Johnson et al.'s ``Gram / (C * H * W)``.

    Args:
        x: Features ``(B, C, H, W)`` or ``(B, C, N)``.
        normalize: Divisor of ``F F^T``: ``"none"``, ``"N"`` or ``"CN"``.

    Returns:
        Gram matrices ``(B, C, C)``, symmetric, same dtype as ``x``.

    Raises:
        ValueError: If ``x`` is not 3-D/4-D or ``normalize`` is unknown.
    """
    f = as_features(x)
    _, c, n = f.shape
    if normalize == "none":
        divisor = 1.0
    elif normalize == "N":
        divisor = float(n)
    elif normalize == "CN":
        divisor = float(c * n)
    else:
        raise ValueError(f"normalize must be one of 'none', 'N', 'CN'; got {normalize!r}")
    g = torch.matmul(f, f.transpose(1, 2))
    return g / divisor if divisor != 1.0 else g
