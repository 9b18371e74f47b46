r"""SSIM (Wang et al. 2004) with the Gaussian window, matching ``skimage.metrics.structural_similarity``.

Per channel, with ``G`` an ``11 x 11`` Gaussian window (sigma 1.5, truncated at radius 5, normalised to
sum 1) and ``*`` "valid" filtering::

    mu_x = G * x,   mu_y = G * y
    s_xx = G * x^2 - mu_x^2,  s_yy = G * y^2 - mu_y^2,  s_xy = G * (x y) - mu_x mu_y
    (population moments: no N/(N-1) factor)
    SSIM_map = (2 mu_x mu_y + C1)(2 s_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(s_xx + s_yy + C2))
    C1 = (K1 L)^2, C2 = (K2 L)^2,  K1 = 0.01, K2 = 0.03, L = data_range = 1

The per-image value is the mean of the map over positions and the 3 channels (skimage's per-channel
mean of means; every channel has the same number of positions).

Boundary handling: skimage filters the whole image with reflect padding and then *crops* a border of
``(win_size - 1) // 2 = 5`` pixels before averaging. The cropped positions are exactly those whose
window touches the padding, so the kept values use interior pixels only: "valid" filtering (no padding,
output ``(H - 10) x (W - 10)``) gives the identical result, which is what this implementation does.
Images must therefore be at least 11 x 11. This is the equivalent of calling
``structural_similarity(a, b, channel_axis=-1, gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=1.0)``; it differs from torchmetrics/pytorch-msssim, which
average over a differently padded or unpadded map.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from stylelab.losses.reduction import Reduction, reduce_per_sample
from stylelab.metrics.base import MeanOfValues

WINDOW_SIZE = 11
SIGMA = 1.5
K1 = 0.01
K2 = 0.03


def gaussian_kernel_1d(
    size: int = WINDOW_SIZE, sigma: float = SIGMA, dtype: torch.dtype = torch.float32
) -> Tensor:
    """Normalised 1-D Gaussian ``(size,)``: ``g_i ∝ exp(-i^2 / (2 sigma^2))``, ``|i| <= size // 2``."""
    radius = size // 2
    positions = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-0.5 * (positions / sigma) ** 2)
    return (kernel / kernel.sum()).to(dtype)


def _filter_valid(x: Tensor, kernel: Tensor) -> Tensor:
    """Separable depthwise "valid" filtering of ``x`` ``(B, C, H, W)`` with a 1-D kernel."""
    channels = x.shape[1]
    size = kernel.numel()
    vertical = kernel.view(1, 1, size, 1).expand(channels, 1, size, 1)
    horizontal = kernel.view(1, 1, 1, size).expand(channels, 1, 1, size)
    return F.conv2d(F.conv2d(x, vertical, groups=channels), horizontal, groups=channels)


def ssim_map(output: Tensor, reference: Tensor, data_range: float = 1.0) -> Tensor:
    """The SSIM map on the valid region: ``(B, C, H - 10, W - 10)`` (formula in the module docstring).

    Raises:
        ValueError: On shape mismatch, non-4-D input or images smaller than 11 x 11.
    """
    if output.shape != reference.shape or output.dim() != 4:
        raise ValueError(
            f"SSIM needs two (B, C, H, W) tensors of equal shape; got {tuple(output.shape)} and "
            f"{tuple(reference.shape)}"
        )
    if min(output.shape[-2:]) < WINDOW_SIZE:
        raise ValueError(
            f"SSIM needs images of at least {WINDOW_SIZE}x{WINDOW_SIZE}; got {tuple(output.shape[-2:])}"
        )
    kernel = gaussian_kernel_1d(dtype=output.dtype).to(output.device)
    channels = output.shape[1]
    stacked = torch.cat(
        [output, reference, output * output, reference * reference, output * reference], dim=1
    )
    mu_x, mu_y, e_xx, e_yy, e_xy = _filter_valid(stacked, kernel).split(channels, dim=1)
    var_x = e_xx - mu_x * mu_x
    var_y = e_yy - mu_y * mu_y
    cov_xy = e_xy - mu_x * mu_y
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    numerator = (2 * mu_x * mu_y + c1) * (2 * cov_xy + c2)
    denominator = (mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2)
    return numerator / denominator


def ssim(output: Tensor, reference: Tensor, data_range: float = 1.0, reduction: Reduction = "mean") -> Tensor:
    """SSIM per image, mean over channels (functional twin of :class:`SSIM`).

    Args:
        output: ``(B, 3, H, W)`` (any channel count works), values in ``[0, data_range]``.
        reference: Same shape (PCA-KD: the content image).
        data_range: ``L`` in ``C1 = (K1 L)^2``; 1 for images in ``[0, 1]``.
        reduction: ``"none"`` (per-image ``(B,)``), ``"mean"`` or ``"sum"``.

    Returns:
        ``(B,)`` or a scalar, 1 for identical images; differentiable.
    """
    return reduce_per_sample(ssim_map(output, reference, data_range).flatten(1).mean(1), reduction)


class SSIM(MeanOfValues):
    """Mean SSIM over all images seen (Gaussian 11x11, sigma 1.5, skimage-equivalent; module docstring).

    Args:
        data_range: Value range of the images (1 for ``[0, 1]``).
        kwargs: torchmetrics ``Metric`` options.
    """

    higher_is_better = True

    def __init__(self, data_range: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_range = data_range

    def update(self, output: Tensor, reference: Tensor) -> None:
        """Add a batch of image pairs ``(B, 3, H, W)``."""
        self._accumulate(ssim(output, reference, self.data_range, reduction="none"))

    @property
    def variant(self) -> str:
        """The exact SSIM configuration."""
        return (
            f"SSIM: Gaussian {WINDOW_SIZE}x{WINDOW_SIZE} sigma={SIGMA}, K1={K1}, K2={K2}, "
            f"data_range={self.data_range:g}, population covariance, valid region (= skimage's border crop), "
            "mean over channels"
        )
