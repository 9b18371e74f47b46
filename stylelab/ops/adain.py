"""Adaptive instance normalisation (AdaIN, Huang & Belongie 2017)."""

from __future__ import annotations

from torch import Tensor

from stylelab.ops._shapes import check_pair
from stylelab.ops.moments import mean_std


def adain(
    content: Tensor,
    style: Tensor,
    eps: float = 1e-5,
    unbiased: bool = True,
    alpha: float = 1.0,
) -> Tensor:
    r"""Replace each content channel's mean/std by the style's.

    Per sample and channel, with ``(mu_c, sigma_c)`` and ``(mu_s, sigma_s)`` from :func:`mean_std`::

        t   = sigma_s * (content - mu_c) / sigma_c + mu_s
        out = alpha * t + (1 - alpha) * content

    ``sigma = sqrt(var + eps)``; the default ``unbiased=True, eps=1e-5`` is pytorch-AdaIN's. Because
    ``eps`` enters both stds, ``out`` matches the style's mean exactly and its std up to
    ``O(eps / var)``.

    Args:
        content: Content features ``(B, C, H, W)`` (or ``(B, C, N)``).
        style: Style features ``(B, C, H', W')`` (or ``(B, C, N')``); its batch may also be 1 to
            apply one style to every content sample. Spatial sizes may differ from ``content``.
        eps: Variance epsilon (see :func:`mean_std`).
        unbiased: Variance divisor ``N - 1`` (True) or ``N`` (False).
        alpha: Style strength in ``[0, 1]``; 0 returns ``content``.

    Returns:
        Stylised features, same shape and dtype as ``content``.

    Raises:
        ValueError: On mismatched channels/batch, a bad ``alpha``, or as :func:`mean_std`.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1]; got {alpha}")
    if content.dim() != style.dim():
        raise ValueError(
            f"content and style must have the same number of dims; got shapes {tuple(content.shape)} "
            f"and {tuple(style.shape)}"
        )
    check_pair(content, style)
    mu_c, sigma_c = mean_std(content, eps=eps, unbiased=unbiased)
    mu_s, sigma_s = mean_std(style, eps=eps, unbiased=unbiased)
    t = sigma_s * (content - mu_c) / sigma_c + mu_s
    if alpha == 1.0:
        return t
    return alpha * t + (1.0 - alpha) * content
