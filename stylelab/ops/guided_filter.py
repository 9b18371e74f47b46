r"""Guided image filter (He, Sun & Tang, ECCV 2010 / TPAMI 2013), grey or colour guide.

Used as the optional post-processing of PhotoWCT/PhotoWCT2/PCA-KD demos (OpenCV
``ximgproc.guidedFilter(guide=content, src=stylised, radius, eps)``). For a guide ``I`` and an input
``p``, in every ``(2r+1) x (2r+1)`` window ``w_k`` the output is the linear model
``q = a_k^T I + b_k`` that minimises ``sum_{i in w_k} (a_k^T I_i + b_k - p_i)^2 + eps ||a_k||^2``:

    a_k = (Sigma_k + eps U)^-1 cov_k(I, p),      b_k = mean_k(p) - a_k^T mean_k(I),
    q_i = mean over the windows containing i of (a_k^T I_i + b_k)

with ``Sigma_k`` the ``c x c`` covariance of the guide in the window (``c = 1`` grey, ``3`` colour).
Box means are taken over the part of the window inside the image (He's reference code divides by the
number of pixels in the clipped window).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from stylelab.ops._shapes import check_image_like


def box_mean(x: Tensor, radius: int) -> Tensor:
    """Mean over the ``(2r+1)^2`` window clipped to the image, per channel.

    Args:
        x: ``(B, C, H, W)``.
        radius: ``r >= 0``.

    Returns:
        ``(B, C, H, W)``.
    """
    if radius == 0:
        return x
    size = 2 * radius + 1
    ones = torch.ones_like(x[:, :1])
    total = F.avg_pool2d(F.pad(x, (radius,) * 4), size, stride=1, divisor_override=1)
    count = F.avg_pool2d(F.pad(ones, (radius,) * 4), size, stride=1, divisor_override=1)
    return total / count


def guided_filter(src: Tensor, guide: Tensor, radius: int, eps: float) -> Tensor:
    """Filter ``src`` with the edges of ``guide`` (each ``src`` channel separately).

    Args:
        src: Input ``(B, C, H, W)``.
        guide: Guide ``(B, 1, H, W)`` (grey filter) or ``(B, 3, H, W)`` (colour filter).
        radius: Window radius ``r >= 0``.
        eps: Regulariser ``> 0`` in the guide's squared units (``(0.02)^2`` for images in [0, 1] is
            OpenCV's ``(0.02 * 255)^2`` for 0..255 images).

    Returns:
        ``(B, C, H, W)`` in ``src``'s dtype (computed in float64 for the 3x3 inverses).

    Raises:
        ValueError: Mismatched shapes, a guide with neither 1 nor 3 channels, negative radius or
            non-positive eps.
    """
    check_image_like(src, "src")
    check_image_like(guide, "guide")
    if guide.shape[0] != src.shape[0] or guide.shape[-2:] != src.shape[-2:]:
        raise ValueError(f"guide {tuple(guide.shape)} and src {tuple(src.shape)} must share batch and size")
    if guide.shape[1] not in (1, 3):
        raise ValueError(f"guide must have 1 or 3 channels, got {guide.shape[1]}")
    if radius < 0 or eps <= 0:
        raise ValueError(f"need radius >= 0 and eps > 0, got radius={radius}, eps={eps}")
    p, guide64 = src.double(), guide.double()
    b, c = guide.shape[:2]
    h, w = src.shape[-2:]
    mean_i = box_mean(guide64, radius)  # (B, c, H, W)
    mean_p = box_mean(p, radius)  # (B, C, H, W)
    # covariance of the guide (B, c, c, H, W) and cross-covariance with p (B, c, C, H, W)
    ii = guide64.unsqueeze(2) * guide64.unsqueeze(1)
    sigma = box_mean(ii.flatten(1, 2), radius).view(b, c, c, h, w) - mean_i.unsqueeze(2) * mean_i.unsqueeze(1)
    ip = guide64.unsqueeze(2) * p.unsqueeze(1)
    cov_ip = box_mean(ip.flatten(1, 2), radius).view(b, c, -1, h, w) - mean_i.unsqueeze(2) * mean_p.unsqueeze(
        1
    )
    eye = torch.eye(c, dtype=p.dtype, device=p.device).view(1, c, c, 1, 1)
    system = (sigma + eps * eye).permute(0, 3, 4, 1, 2)  # (B, H, W, c, c)
    a = torch.linalg.solve(system, cov_ip.permute(0, 3, 4, 1, 2))  # (B, H, W, c, C)
    a = a.permute(0, 3, 4, 1, 2)  # (B, c, C, H, W)
    bias = mean_p - (a * mean_i.unsqueeze(2)).sum(dim=1)
    mean_a = box_mean(a.flatten(1, 2), radius).view_as(a)
    mean_b = box_mean(bias, radius)
    return ((mean_a * guide64.unsqueeze(2)).sum(dim=1) + mean_b).to(src.dtype)
