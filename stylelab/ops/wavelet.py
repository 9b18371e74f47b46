"""One-level 2-D Haar wavelet packet (WCT2 / KT wavelet pooling) and its exact inverse."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from stylelab.ops._shapes import check_image_like


def haar_kernels(dtype: torch.dtype = torch.float32, device: torch.device | str | None = None) -> Tensor:
    r"""The four 2x2 Haar packet filters, stacked as ``(4, 2, 2)`` in the order LL, LH, HL, HH.

    With ``L = [1, 1] / sqrt(2)`` and ``H = [-1, 1] / sqrt(2)``, filter ``XY = outer(X, Y)``, i.e.
    ``XY[i, j] = X[i] * Y[j]`` with ``i`` the row (vertical) and ``j`` the column (horizontal) tap::

        LL = [[ 1,  1],    LH = [[-1,  1],    HL = [[-1, -1],    HH = [[ 1, -1],
              [ 1,  1]]/2        [-1,  1]]/2        [ 1,  1]]/2        [-1,  1]]/2

    So LH is low-pass vertically and high-pass horizontally (it responds to vertical edges), HL the
    opposite. The four filters are an orthonormal basis of the 2x2 blocks.

    Args:
        dtype: Dtype of the result.
        device: Device of the result.

    Returns:
        Filters ``(4, 2, 2)``.
    """
    s = 1.0 / math.sqrt(2.0)
    low = torch.tensor([s, s], dtype=dtype, device=device)
    high = torch.tensor([-s, s], dtype=dtype, device=device)
    return torch.stack(
        [torch.outer(low, low), torch.outer(low, high), torch.outer(high, low), torch.outer(high, high)]
    )


def _depthwise_weight(channels: int, like: Tensor) -> Tensor:
    """``(4 * C, 1, 2, 2)`` weight: for channel ``c``, rows ``4c .. 4c + 3`` are LL, LH, HL, HH."""
    k = haar_kernels(dtype=like.dtype, device=like.device)
    return k.repeat(channels, 1, 1).unsqueeze(1)


def haar_packet(x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    r"""One-level Haar wavelet packet: a depthwise stride-2 2x2 convolution with four filters.

    For every non-overlapping 2x2 block ``[[a, b], [c, d]]`` of every channel (filters from
    :func:`haar_kernels`)::

        LL = ( a + b + c + d) / 2
        LH = (-a + b - c + d) / 2     horizontal difference (right minus left)
        HL = (-a - b + c + d) / 2     vertical difference (bottom minus top)
        HH = ( a - b - c + d) / 2

    Relation to ``pywt.dwt2(x, "haar")`` -> ``(cA, (cH, cV, cD))``: pywt's Haar high-pass
    ``dec_hi = [-1, 1]/sqrt(2)`` is applied as a convolution (filter reversed), which gives
    ``first - second`` where our cross-correlation gives ``second - first``. Hence::

        LL = cA,   LH = -cV,   HL = -cH,   HH = cD

    (pywt's "horizontal detail" cH is the vertical difference, its "vertical detail" cV the
    horizontal one; HH has two sign flips, which cancel.) This is the filter bank of WCT2's
    ``WavePool`` and of KT's wavelet module.

    Args:
        x: Tensor ``(B, C, H, W)`` with even ``H`` and ``W``.

    Returns:
        ``(LL, LH, HL, HH)``, each ``(B, C, H/2, W/2)``, same dtype as ``x``.

    Raises:
        ValueError: If ``x`` is not 4-D or ``H`` or ``W`` is odd.
    """
    check_image_like(x)
    _, c, h, w = x.shape
    if h % 2 or w % 2:
        raise ValueError(
            f"haar_packet needs even H and W; got H={h}, W={w}. Crop or pad the input to a multiple of 2."
        )
    y = F.conv2d(x, _depthwise_weight(c, x), stride=2, groups=c)
    y = y.unflatten(1, (c, 4))
    return y[:, :, 0], y[:, :, 1], y[:, :, 2], y[:, :, 3]


def inverse_haar_packet(ll: Tensor, lh: Tensor, hl: Tensor, hh: Tensor) -> Tensor:
    r"""Exact inverse of :func:`haar_packet`.

    The four filters are orthonormal, so the inverse is the transposed convolution with the same
    filters: for each block, ``[[a, b], [c, d]] = LL*K_LL + LH*K_LH + HL*K_HL + HH*K_HH``.

    Args:
        ll: Low-low band ``(B, C, h, w)``.
        lh: Low-high band ``(B, C, h, w)``.
        hl: High-low band ``(B, C, h, w)``.
        hh: High-high band ``(B, C, h, w)``.

    Returns:
        Reconstruction ``(B, C, 2h, 2w)``.

    Raises:
        ValueError: If the bands are not 4-D or their shapes differ.
    """
    check_image_like(ll, "ll")
    if not (ll.shape == lh.shape == hl.shape == hh.shape):
        raise ValueError(
            "all four bands must have the same shape; got "
            f"{tuple(ll.shape)}, {tuple(lh.shape)}, {tuple(hl.shape)}, {tuple(hh.shape)}"
        )
    c = ll.shape[1]
    y = torch.stack([ll, lh, hl, hh], dim=2).flatten(1, 2)
    return F.conv_transpose2d(y, _depthwise_weight(c, ll), stride=2, groups=c)
