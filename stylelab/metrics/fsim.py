r"""FSIM / FSIMc (Zhang et al., TIP 2011) as a metric, delegating to ``piq.fsim``.

``piq`` (a port of the authors' MATLAB code) is the reference implementation; we do not re-implement
the phase-congruency pipeline, we wrap it. What piq computes, in short: images are rescaled to
``[0, 255]``, average-pooled by ``max(1, round(min(H, W) / 256))``, converted to YIQ; phase congruency
``PC`` (log-Gabor filters, 4 scales x 4 orientations) and Scharr gradient magnitude ``GM`` of the
luminance give the similarity ``S_L = S_PC * S_GM`` (constants T1 = 0.85, T2 = 160), pooled with weight
``max(PC_x, PC_y)``::

    FSIM  = sum S_L PC_m / sum PC_m
    FSIMc = sum S_L [S_I S_Q]^lambda PC_m / sum PC_m     (T3 = T4 = 200, lambda = 0.03)

``chromatic=True`` (FSIMc, uses the I/Q chroma channels) is piq's default and what "FSIM" on colour
images usually means; ``chromatic=False`` uses the luminance ``Y`` only (grayscale FSIM). PCA-KD reports
FSIM between the stylised and the content image (spec 5.7) without saying which; we default to FSIMc.
Inputs must lie in ``[0, data_range]`` (piq checks; clip stylised outputs first).
"""

from __future__ import annotations

from typing import Any

import piq
from torch import Tensor

from stylelab.losses.reduction import Reduction, reduce_per_sample
from stylelab.metrics.base import MeanOfValues


def fsim(
    output: Tensor,
    reference: Tensor,
    chromatic: bool = True,
    data_range: float = 1.0,
    reduction: Reduction = "mean",
) -> Tensor:
    """FSIM(c) per image via ``piq.fsim`` (functional twin of :class:`FSIM`).

    Args:
        output: ``(B, 3, H, W)`` RGB in ``[0, data_range]``.
        reference: Same shape (PCA-KD: the content image).
        chromatic: FSIMc (True) or luminance-only FSIM (False).
        data_range: Maximum pixel value.
        reduction: ``"none"`` (per-image ``(B,)``), ``"mean"`` or ``"sum"``.

    Returns:
        ``(B,)`` or a scalar; 1 for identical images, usually in ``[0, 1]``.

    Raises:
        ValueError: On shape mismatch or non-RGB input (piq raises for values outside the range).
    """
    if output.shape != reference.shape or output.dim() != 4 or output.shape[1] != 3:
        raise ValueError(
            f"FSIM needs two RGB (B, 3, H, W) tensors of equal shape; got {tuple(output.shape)} and "
            f"{tuple(reference.shape)}"
        )
    values = piq.fsim(output, reference, reduction="none", data_range=data_range, chromatic=chromatic)
    return reduce_per_sample(values, reduction)


class FSIM(MeanOfValues):
    """Mean FSIM(c) over all images seen, computed by ``piq.fsim`` (module docstring).

    Args:
        chromatic: FSIMc (True, default) or luminance-only FSIM.
        data_range: Maximum pixel value.
        kwargs: torchmetrics ``Metric`` options.
    """

    higher_is_better = True

    def __init__(self, chromatic: bool = True, data_range: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.chromatic = chromatic
        self.data_range = data_range

    def update(self, output: Tensor, reference: Tensor) -> None:
        """Add a batch of image pairs ``(B, 3, H, W)`` in ``[0, data_range]``."""
        self._accumulate(fsim(output, reference, self.chromatic, self.data_range, reduction="none"))

    @property
    def variant(self) -> str:
        """E.g. ``"FSIMc (chromatic, YIQ) via piq.fsim (reference implementation), data_range=1"``."""
        kind = "FSIMc (chromatic, YIQ)" if self.chromatic else "FSIM (luminance Y only)"
        source = f"piq.fsim {piq.__version__} (reference implementation)"
        return f"{kind} via {source}, data_range={self.data_range:g}"
