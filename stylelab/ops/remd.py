"""Relaxed earth mover's distance with a cosine cost (STROTSS; SK's L_REMD)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from stylelab.ops._shapes import as_features


def sample_positions(f: Tensor, max_samples: int | None, generator: torch.Generator | None = None) -> Tensor:
    r"""Randomly keep at most ``max_samples`` positions (columns), without replacement.

    The same random subset of positions is used for every sample of the batch. Nothing is drawn
    when ``max_samples`` is None or ``N <= max_samples`` (``f`` is returned unchanged).

    Args:
        f: Features ``(B, C, N)``.
        max_samples: Maximum number of positions kept, or None for all.
        generator: Random generator for reproducibility (its device is used to draw the indices).

    Returns:
        ``(B, C, min(N, max_samples))``.

    Raises:
        ValueError: If ``max_samples < 1``.
    """
    if max_samples is None:
        return f
    if max_samples < 1:
        raise ValueError(f"max_samples must be >= 1 or None; got {max_samples}")
    n = f.shape[-1]
    if n <= max_samples:
        return f
    device = generator.device if generator is not None else f.device
    idx = torch.randperm(n, generator=generator, device=device)[:max_samples]
    return f[..., idx.to(f.device)]


def remd(
    x: Tensor,
    y: Tensor,
    max_samples: int | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""Relaxed earth mover's distance between two sets of feature vectors, per sample.

    Positions are vectors in ``R^C``. With ``x_i`` (``i = 1..N``) and ``y_j`` (``j = 1..M``)::

        C_ij = 1 - cos(x_i, y_j) = 1 - <x_i, y_j> / (|x_i| |y_j|)
        REMD = max( mean_i min_j C_ij ,  mean_j min_i C_ij )

    (Kolkin et al., STROTSS, 2019; SK's Eq. 9.) It lies in ``[0, 2]``: 0 when each set's vectors
    all have a parallel partner in the other set, 1 for mutually orthogonal sets. A zero vector has
    cosine 0 with everything. Memory is ``O(B * N * M)``; bound it with ``max_samples`` (STROTSS
    uses ``128**2`` positions, our SK proposal 4096).

    Args:
        x: Features ``(B, C, H, W)`` or ``(B, C, N)``.
        y: Features ``(B, C, H', W')`` or ``(B, C, M)``; ``M`` may differ from ``N``.
        max_samples: If set, each side is randomly subsampled to at most this many positions
            (independently, see :func:`sample_positions`).
        generator: Random generator for the subsampling.

    Returns:
        Distances ``(B,)``, differentiable w.r.t. ``x`` and ``y``.

    Raises:
        ValueError: If the batch sizes or channel counts differ, or on bad shapes.
    """
    fx = as_features(x, "x")
    fy = as_features(y, "y")
    if fx.shape[:2] != fy.shape[:2]:
        raise ValueError(
            f"x and y must share batch size and channels; got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    fx = F.normalize(sample_positions(fx, max_samples, generator), dim=1)
    fy = F.normalize(sample_positions(fy, max_samples, generator), dim=1)
    cost = 1.0 - torch.matmul(fx.transpose(1, 2), fy)  # (B, N, M)
    x_to_y = cost.amin(dim=2).mean(dim=1)
    y_to_x = cost.amin(dim=1).mean(dim=1)
    return torch.maximum(x_to_y, y_to_x)
