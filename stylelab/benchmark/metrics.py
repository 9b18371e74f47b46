"""The quality metrics of one cell (one method on one pair), each a direct call of :mod:`stylelab.metrics`.

All metrics are computed at ``eval_size x eval_size`` (antialiased bilinear resize, as the project's
quality floor :mod:`stylelab.metrics.quality`), so images of any size and aspect compare alike:

* ``ssim``: SSIM of the output to the content (Gaussian σ=1.5, skimage settings);
* ``lpips``: LPIPS v0.1 alex of the output to the content;
* ``gram`` / ``mean_std``: style loss of the output to the style (Caffe VGG-19 q8; Gram at
  relu1_1..relu4_1, ``G = F F^T / (C N)``; mean/std at relu1_1..relu5_1), the content's own loss to the
  style and their ratio ``loss(output, style) / loss(content, style)`` (below 1: closer to the style);
* ``cfsd``: StyleID's content feature structural distance (:mod:`stylelab.metrics.cfsd`) with the
  configured VGG-19 weights (reference: torchvision ImageNet).

A metric whose weights do not resolve gives ``None`` and a note (``"n/a: ..."``), never an exception.
ArtFID is a set-level metric (:mod:`stylelab.benchmark.artfid`), computed by the report.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from stylelab.backbones import WeightsNotFoundError
from stylelab.metrics import DEFAULT_STYLE_LAYERS, cfsd, default_vgg_encoder, lpips, ssim
from stylelab.metrics.encoder import deepest_layer
from stylelab.metrics.quality import resize_square
from stylelab.metrics.style_loss import DEFAULT_WEIGHTS, style_loss_from_features

#: Column names each configured metric adds (in this order).
COLUMNS: dict[str, tuple[str, ...]] = {
    "ssim": ("ssim",),
    "lpips": ("lpips",),
    "gram": ("gram_loss", "gram_content_loss", "gram_ratio"),
    "mean_std": ("mean_std_loss", "mean_std_content_loss", "mean_std_ratio"),
    "cfsd": ("cfsd",),
}

VARIANTS: dict[str, str] = {
    "ssim": "SSIM of output to content, Gaussian σ=1.5 (skimage's structural_similarity settings)",
    "lpips": "LPIPS v0.1 alex of output to content",
    "gram": "Gram style loss, Caffe VGG-19 q8 relu1_1..relu4_1, G = F F^T / (C N); ratio = "
    "loss(output, style) / loss(content, style)",
    "mean_std": "mean/std style loss, Caffe VGG-19 q8 relu1_1..relu5_1, σ = sqrt(var + 1e-5); ratio as Gram",
    "cfsd": "CFSD (StyleID), relu3_1 of VGG-19 ({weights}), sum over positions of KL(content || output)",
    "artfid": "ArtFID = (1 + mean LPIPS alex (output, content)) x (1 + FID(outputs, styles)), art-fid's "
    "Inception-v3 (art_inception.pth) 2048-d pool features of the saved 8-bit outputs at their size",
}


def metric_columns(metrics: tuple[str, ...]) -> list[str]:
    """The per-cell columns of the configured metrics (ArtFID has none: it is per set)."""
    return [column for metric in metrics for column in COLUMNS.get(metric, ())]


def _mark(error: BaseException) -> str:
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"n/a: {first}"


@torch.no_grad()
def cell_metrics(
    output: Tensor,
    content: Tensor,
    style: Tensor,
    metrics: tuple[str, ...],
    eval_size: int = 256,
    cfsd_weights: str = "vgg19_torchvision",
) -> tuple[dict[str, float | None], dict[str, str]]:
    """Every configured per-cell metric of one (output, content, style) triple.

    Args:
        output: ``(1, 3, H, W)`` stylised image, RGB [0, 1].
        content: ``(1, 3, H', W')`` its content.
        style: ``(1, 3, H'', W'')`` its style.
        metrics: Names from :data:`stylelab.benchmark.config.METRICS`.
        eval_size: Side of the square evaluation size.
        cfsd_weights: Registry weights of CFSD's VGG-19.

    Returns:
        ``(values, notes)``: a value (or ``None``) per column of :func:`metric_columns`, and a note per
        metric that could not be computed.
    """
    out, cont, sty = (resize_square(x.float().cpu(), eval_size) for x in (output, content, style))
    values: dict[str, float | None] = {c: None for c in metric_columns(metrics)}
    notes: dict[str, str] = {}
    features = _StyleFeatures(out, cont, sty, [m for m in metrics if m in ("gram", "mean_std")])
    for metric in metrics:
        if metric not in COLUMNS:
            continue
        try:
            values.update(_compute(metric, out, cont, features, cfsd_weights))
        except (WeightsNotFoundError, KeyError) as error:
            notes[metric] = _mark(error)
            continue
        if metric in ("gram", "mean_std") and values[f"{metric}_ratio"] is None:
            notes[metric] = "ratio undefined: the content's own style loss is 0 (content = style)"
    return values, notes


class _StyleFeatures:
    """Caffe VGG-19 q8 features of output, content and style, encoded once for every style variant.

    :func:`stylelab.metrics.style_loss` encodes both of its images on every call; the benchmark needs
    four losses per cell, so it encodes the three images once (to the deepest layer any variant needs)
    and applies the same feature-level definition (:func:`style_loss_from_features`, same defaults).
    """

    def __init__(self, out: Tensor, cont: Tensor, sty: Tensor, variants: list[str]) -> None:
        self.layers = sorted({layer for v in variants for layer in DEFAULT_STYLE_LAYERS[v]})
        self.images = (out, cont, sty)
        self._features: tuple[dict[str, Tensor], ...] | None = None

    def get(self) -> tuple[dict[str, Tensor], ...]:
        """``(output, content, style)`` feature dicts (built on first use)."""
        if self._features is None:
            encoder = default_vgg_encoder(DEFAULT_WEIGHTS, deepest_layer(self.layers))
            self._features = tuple(encoder(x, self.layers) for x in self.images)
        return self._features


def _compute(
    metric: str, out: Tensor, cont: Tensor, features: _StyleFeatures, cfsd_weights: str
) -> dict[str, Any]:
    if metric == "ssim":
        return {"ssim": float(ssim(out, cont))}
    if metric == "lpips":
        return {"lpips": float(lpips(out, cont))}
    if metric == "cfsd":
        return {"cfsd": float(cfsd(out, cont, weights=cfsd_weights))}
    out_f, cont_f, sty_f = features.get()
    layers = DEFAULT_STYLE_LAYERS[metric]
    loss = float(style_loss_from_features(out_f, sty_f, metric, layers))  # type: ignore[arg-type]
    own = float(style_loss_from_features(cont_f, sty_f, metric, layers))  # type: ignore[arg-type]
    return {f"{metric}_loss": loss, f"{metric}_content_loss": own, f"{metric}_ratio": style_ratio(loss, own)}


#: Below this fraction of the output's loss, the content's own style loss counts as zero.
UNDEFINED_RATIO_FRACTION = 1e-6


def style_ratio(loss: float, own: float) -> float | None:
    """``loss / own``, or ``None`` where it is undefined: the content already has the style's statistics.

    A pair whose content is its style (one DPST pair of the shared data is) has ``own = 0``; dividing would
    put ~1e16 into a set's mean. Such a pair has no ratio (the row's mean skips it; its cell notes why).
    """
    if own <= UNDEFINED_RATIO_FRACTION * max(loss, 0.0) or own <= 0.0:
        return None
    return loss / own
