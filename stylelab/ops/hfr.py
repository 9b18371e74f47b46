"""High-frequency residuals (HFR): the two definitions used by PCA-KD and PhotoWCT2."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from stylelab.ops._shapes import check_image_like


def hfr_box(x: Tensor) -> Tensor:
    r"""High-frequency residual as in the PCA-KD reference code: ``x - mean3x3(x)``.

    ``mean3x3`` is a 3x3 box filter (stride 1) over a replicate-padded input (TF "SYMMETRIC"
    padding by 1 is the same as replicate)::

        HFR[i, j] = x[i, j] - (1/9) sum_{|di|<=1, |dj|<=1} x[clip(i+di), clip(j+dj)]

    Any size is accepted; the output has the input's size.

    Args:
        x: Map ``(B, C, H, W)``.

    Returns:
        Residual ``(B, C, H, W)``; zero on constant and on affine (ramp) regions away from the
        border.

    Raises:
        ValueError: If ``x`` is not 4-D.
    """
    check_image_like(x)
    blurred = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), kernel_size=3, stride=1)
    return x - blurred


def hfr_pool(x: Tensor) -> Tensor:
    r"""High-frequency residual as in PhotoWCT2: ``x - up(avgpool2x2(x))``.

    ``avgpool2x2`` is a 2x2 stride-2 average pool (odd trailing rows/columns are dropped, as in
    Keras ``AveragePooling2D``) and ``up`` a bilinear resize back to ``(H, W)`` with half-pixel
    centres (``align_corners=False``, = TF2 ``tf.image.resize``), edges clamped. PhotoWCT2 takes
    it on the input of each pooling layer of its average-pool VGG encoder.

    Args:
        x: Map ``(B, C, H, W)`` with ``H, W >= 2``.

    Returns:
        Residual ``(B, C, H, W)``.

    Raises:
        ValueError: If ``x`` is not 4-D or smaller than 2x2.
    """
    check_image_like(x)
    h, w = x.shape[-2:]
    if h < 2 or w < 2:
        raise ValueError(f"hfr_pool needs H, W >= 2 for the 2x2 pool; got {h}x{w}")
    low = F.interpolate(F.avg_pool2d(x, 2), size=(h, w), mode="bilinear", align_corners=False)
    return x - low
