"""Pure tensor functions shared by losses, metrics and methods.

Every op works per sample (the batch is never folded), takes images/features ``(B, C, H, W)`` (some
also ``(B, C, N)``) and exposes its epsilons and regularisers as keyword arguments.
"""

from stylelab.ops.adain import adain
from stylelab.ops.gram import gram_matrix
from stylelab.ops.guided_filter import box_mean, guided_filter
from stylelab.ops.hfr import hfr_box, hfr_pool
from stylelab.ops.ift import (
    IFTDivergenceError,
    ift_gradient,
    ift_objective,
    ift_transform,
    match_labels,
    resize_labels,
    style_gram,
)
from stylelab.ops.moments import covariance, instance_normalize, mean_std
from stylelab.ops.patches import fold_patches, patch_grid_shape, unfold_patches
from stylelab.ops.remd import remd, sample_positions
from stylelab.ops.shuffle import group_shuffle, group_unshuffle
from stylelab.ops.tv import total_variation
from stylelab.ops.wavelet import haar_kernels, haar_packet, inverse_haar_packet
from stylelab.ops.zca import color, whiten, zca_transform

__all__ = [
    "adain",
    "box_mean",
    "color",
    "covariance",
    "fold_patches",
    "gram_matrix",
    "group_shuffle",
    "group_unshuffle",
    "guided_filter",
    "haar_kernels",
    "haar_packet",
    "hfr_box",
    "hfr_pool",
    "ift_gradient",
    "ift_objective",
    "ift_transform",
    "IFTDivergenceError",
    "instance_normalize",
    "inverse_haar_packet",
    "match_labels",
    "mean_std",
    "patch_grid_shape",
    "remd",
    "resize_labels",
    "sample_positions",
    "style_gram",
    "total_variation",
    "unfold_patches",
    "whiten",
    "zca_transform",
]
