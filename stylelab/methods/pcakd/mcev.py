r"""Channel selection by mean (cumulative) explained variance, PCA-KD Eq. 9 and Fig. 4.

For image ``k`` and layer ``N`` with covariance eigenvalues ``sigma^1 >= sigma^2 >= ...`` of the teacher
feature ``F_{N,k}`` (covariance of the centred feature, ``/P``):

    EV_k(j)   = sigma^j / sum_a sigma^a
    mEV(j)    = mean_k EV_k(j)
    mCEV(C')  = mean_k sum_{j <= C'} EV_k(j) = sum_{j <= C'} mEV(j)

and the channel count of a layer is the smallest ``C'`` with ``mCEV(C') >= threshold`` (paper: 85%,
giving 64, 58, 20, 5 for relu4_1, relu3_1, relu2_1, relu1_1 on COCO train2017).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from stylelab.methods.pcakd.eigenbases import centre

#: The paper's channel counts at 85% (Fig. 4), by VGG tap.
PAPER_CHANNELS = {"relu1_1": 5, "relu2_1": 20, "relu3_1": 58, "relu4_1": 64}


def explained_variance(feature: Tensor) -> Tensor:
    """Explained-variance ratios of each sample's covariance eigenvalues, largest first.

    Args:
        feature: ``(B, C, H, W)``.

    Returns:
        ``(B, C)`` float64, each row non-negative and summing to 1 (all zeros for a constant feature).
    """
    f = centre(feature).double()
    cov = f @ f.transpose(1, 2) / f.shape[-1]
    values = torch.linalg.eigvalsh(cov).flip(-1).clamp_min(0.0)
    total = values.sum(dim=-1, keepdim=True)
    return torch.where(total > 0, values / total.clamp_min(1e-300), torch.zeros_like(values))


def channels_at(mcev: Tensor, threshold: float) -> int:
    """Smallest channel count ``C'`` with ``mCEV(C') >= threshold`` (``len(mcev)`` if never reached)."""
    reached = (mcev >= threshold - 1e-12).nonzero()
    return int(reached[0, 0]) + 1 if len(reached) else int(mcev.numel())


@dataclass
class ExplainedVarianceStats:
    """Running sums of explained-variance ratios per layer (one entry per image).

    Attributes:
        layers: Layer names in order.
        sums: Per layer, the ``(C,)`` float64 sum of EV ratios over images.
        count: Number of images accumulated.
    """

    layers: Sequence[str]
    sums: dict[str, Tensor] = field(default_factory=dict)
    count: int = 0

    def update(self, feats: Sequence[Tensor]) -> None:
        """Add a batch: one feature map ``(B, C_N, H, W)`` per layer."""
        if len(feats) != len(self.layers):
            raise ValueError(f"expected {len(self.layers)} feature maps, got {len(feats)}")
        for layer, feature in zip(self.layers, feats, strict=True):
            ev = explained_variance(feature).sum(dim=0).cpu()
            self.sums[layer] = ev if layer not in self.sums else self.sums[layer] + ev
        self.count += feats[0].shape[0]

    def mean_ev(self, layer: str) -> Tensor:
        """Mean explained variance (mEV) of every eigenvalue rank ``(C,)``."""
        if self.count == 0:
            raise ValueError("no image has been accumulated")
        return self.sums[layer] / self.count

    def mean_cev(self, layer: str) -> Tensor:
        """Mean cumulative explained variance (mCEV) at every channel count ``(C,)`` (Eq. 9)."""
        return self.mean_ev(layer).cumsum(0)

    def channels(self, threshold: float) -> dict[str, int]:
        """Channel count per layer reaching ``threshold``."""
        return {layer: channels_at(self.mean_cev(layer), threshold) for layer in self.layers}


def accumulate(encoder: object, images: Iterable[Tensor], layers: Sequence[str]) -> ExplainedVarianceStats:
    """Explained-variance statistics of ``encoder(image)`` over ``images``.

    Args:
        encoder: Callable ``images (B, 3, H, W) -> list of the layers' features``.
        images: Batches of RGB [0, 1] images.
        layers: Names of the returned layers.

    Returns:
        The accumulated statistics.
    """
    stats = ExplainedVarianceStats(list(layers))
    with torch.no_grad():
        for batch in images:
            stats.update(encoder(batch))  # type: ignore[operator]
    return stats
