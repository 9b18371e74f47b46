"""Evaluation metrics: torchmetrics classes with functional twins, each naming its exact ``variant``.

* ``StyleLoss`` / ``style_loss``: Gram, covariance or mean/std style loss of encoder features.
* ``ContentLoss`` / ``content_loss``: feature MSE, centred sum of squares or normalised MSE.
* ``LPIPS`` / ``lpips``, ``lpips_temporal``: LPIPS v0.1 (alex, vgg), pairwise or temporal; network
  ``LPIPSNet``.
* ``SSIM`` / ``ssim``: Gaussian SSIM, equal to skimage's ``structural_similarity`` (Wang et al. settings).
* ``FSIM`` / ``fsim``: FSIM / FSIMc computed by ``piq``.
* ``CFSD`` / ``cfsd``: StyleID's content feature structural distance.
* ``count_parameters`` / ``parameter_counts``: model sizes with and without auxiliary tensors.

Every class accumulates a float64 sum and a count reduced with ``"sum"`` across processes, so under DDP
``compute()`` equals the single-process mean over the whole dataset.
"""

from stylelab.metrics.base import MeanOfValues
from stylelab.metrics.cfsd import CFSD, cfsd, cfsd_from_features
from stylelab.metrics.content_loss import DEFAULT_CONTENT_LAYERS, ContentLoss, content_loss
from stylelab.metrics.encoder import FeatureEncoder, default_vgg_encoder, describe_encoder
from stylelab.metrics.fsim import FSIM, fsim
from stylelab.metrics.lpips import LPIPS, default_lpips_net, lpips, lpips_temporal
from stylelab.metrics.lpips_net import LPIPSNet
from stylelab.metrics.params import ParameterCounts, count_parameters, parameter_counts
from stylelab.metrics.ssim import SSIM, ssim, ssim_map
from stylelab.metrics.style_loss import DEFAULT_STYLE_LAYERS, StyleLoss, style_loss

__all__ = [
    "CFSD",
    "DEFAULT_CONTENT_LAYERS",
    "DEFAULT_STYLE_LAYERS",
    "FSIM",
    "LPIPS",
    "SSIM",
    "ContentLoss",
    "FeatureEncoder",
    "LPIPSNet",
    "MeanOfValues",
    "ParameterCounts",
    "StyleLoss",
    "cfsd",
    "cfsd_from_features",
    "content_loss",
    "count_parameters",
    "default_lpips_net",
    "default_vgg_encoder",
    "describe_encoder",
    "fsim",
    "lpips",
    "lpips_temporal",
    "parameter_counts",
    "ssim",
    "ssim_map",
    "style_loss",
]
