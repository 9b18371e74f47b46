"""First and second moments of feature maps: per-channel mean/std, covariance, instance norm."""

from __future__ import annotations

import torch
from torch import Tensor

from stylelab.ops._shapes import as_features


def mean_std(x: Tensor, eps: float = 1e-5, unbiased: bool = True) -> tuple[Tensor, Tensor]:
    r"""Per-sample, per-channel mean and standard deviation over spatial positions.

    For channel ``c`` of one sample with values ``x_1 .. x_N``::

        mean = (1/N) sum_n x_n
        var  = sum_n (x_n - mean)^2 / (N - 1)     if unbiased else  / N
        std  = sqrt(var + eps)

    Conventions found in reference code:

    * ``unbiased=True, eps=1e-5`` (default): pytorch-AdaIN and SANet (``calc_mean_std``).
    * ``unbiased=False, eps=1e-8``: Chiu & Gurari's TensorFlow code (IFT, PhotoWCT2, PCA-KD).

    Args:
        x: Features ``(B, C, H, W)`` or ``(B, C, N)``.
        eps: Added to the variance inside the square root (``>= 0``).
        unbiased: Divide the variance by ``N - 1`` (True) or ``N`` (False).

    Returns:
        ``(mean, std)``, each ``(B, C, 1, 1)`` for a 4-D input or ``(B, C, 1)`` for a 3-D input,
        i.e. broadcastable against ``x``.

    Raises:
        ValueError: If ``x`` is not 3-D/4-D, ``eps < 0``, or ``unbiased`` with a single position
            (the ``N - 1`` variance is undefined; use ``unbiased=False``).
    """
    if eps < 0:
        raise ValueError(f"eps must be >= 0; got {eps}")
    f = as_features(x)
    if unbiased and f.shape[-1] < 2:
        raise ValueError("unbiased variance needs at least 2 spatial positions; got 1 (pass unbiased=False)")
    var, mean = torch.var_mean(f, dim=-1, correction=1 if unbiased else 0, keepdim=True)
    std = (var + eps).sqrt()
    shape = x.shape[:2] + (1,) * (x.dim() - 2)
    return mean.reshape(shape), std.reshape(shape)


def covariance(x: Tensor, unbiased: bool = False) -> Tensor:
    r"""Per-sample channel covariance, centred over spatial positions.

    With ``F`` the ``C x N`` features of one sample and ``m`` its per-channel mean::

        Cov = (F - m 1^T)(F - m 1^T)^T / (N - 1)   if unbiased else  / N

    ``/(N-1)`` is the WCT / FastPhotoStyle / WCT2 choice, ``/N`` Chiu & Gurari's (PCA-KD metric).

    Args:
        x: Features ``(B, C, H, W)`` or ``(B, C, N)``.
        unbiased: Divide by ``N - 1`` (True) or ``N`` (False).

    Returns:
        Covariance matrices ``(B, C, C)``, symmetric positive semi-definite.

    Raises:
        ValueError: If ``x`` is not 3-D/4-D, or ``unbiased`` with a single position.
    """
    f = as_features(x)
    n = f.shape[-1]
    if unbiased and n < 2:
        raise ValueError(
            "unbiased covariance needs at least 2 spatial positions; got 1 (pass unbiased=False)"
        )
    fc = f - f.mean(dim=-1, keepdim=True)
    return torch.matmul(fc, fc.transpose(1, 2)) / (n - 1 if unbiased else n)


def instance_normalize(x: Tensor, eps: float = 1e-5, unbiased: bool = True) -> Tensor:
    r"""Normalise each channel of each sample to zero mean and (about) unit std.

    ``y = (x - mean) / std`` with ``mean, std = mean_std(x, eps, unbiased)``. With
    ``unbiased=False`` this equals ``torch.nn.functional.instance_norm`` (no affine); the default
    ``unbiased=True`` is SANet's ``mean_variance_norm`` (used in its content loss).

    Args:
        x: Features ``(B, C, H, W)`` or ``(B, C, N)``.
        eps: Added to the variance inside the square root.
        unbiased: Variance divisor ``N - 1`` (True) or ``N`` (False).

    Returns:
        Normalised features, same shape and dtype as ``x``.

    Raises:
        ValueError: As :func:`mean_std`.
    """
    mean, std = mean_std(x, eps=eps, unbiased=unbiased)
    return (x - mean) / std
