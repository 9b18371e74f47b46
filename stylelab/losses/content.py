r"""Feature-level content losses: feature MSE, centred sum of squares, instance-normalised MSE.

Each function compares the encoder features of the stylised output with those of the content image
position by position (so both images must have the same size) and returns a per-sample loss summed over
``layers``. With ``F_l`` the ``C_l x N_l`` features of one sample at layer ``l``:

* MSE (Johnson, StyleBank at relu4_2): ``sum_l mean (F_l^o - F_l^c)^2``.
* centred sum (PCA-KD metric at relu4_1): ``sum_l sum (Fbar_l^c - Fbar_l^o)^2`` with
  ``Fbar = F - mean_n F``.
* normalised MSE (SANet/IEC/SK at relu4_1, relu5_1): ``sum_l mean (IN(F_l^o) - IN(F_l^c))^2``.

``IN`` is per-sample, per-channel mean/std normalisation (:func:`stylelab.ops.instance_normalize`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor

from stylelab.losses._features import check_layers, check_same_shape
from stylelab.losses.reduction import Reduction, reduce_per_sample
from stylelab.ops.moments import instance_normalize


def feature_mse_loss(
    output_feats: Mapping[str, Tensor],
    content_feats: Mapping[str, Tensor],
    layers: Sequence[str],
    reduction: Reduction = "mean",
) -> Tensor:
    """Plain feature MSE: ``sum_l mean_{c,n} (F_l^o - F_l^c)^2`` per sample.

    Args:
        output_feats: ``{tap: (B, C, H, W)}`` features of the stylised output.
        content_feats: ``{tap: (B, C, H, W)}`` features of the content image (same shapes).
        layers: Taps to sum over.
        reduction: ``"none"`` (per-sample ``(B,)``), ``"mean"`` or ``"sum"`` over the batch.

    Returns:
        ``(B,)`` or a scalar.

    Raises:
        ValueError: If a layer is missing or the shapes differ.
    """
    layers = check_layers(layers, output_feats, content_feats)
    per_layer: list[Tensor] = []
    for layer in layers:
        fo, fc = output_feats[layer], content_feats[layer]
        check_same_shape(fo, fc, layer, "the feature MSE content loss")
        per_layer.append((fo - fc).pow(2).flatten(1).mean(1))
    return reduce_per_sample(torch.stack(per_layer).sum(0), reduction)


def centered_sum_content_loss(
    output_feats: Mapping[str, Tensor],
    content_feats: Mapping[str, Tensor],
    layers: Sequence[str],
    reduction: Reduction = "mean",
) -> Tensor:
    r"""PCA-KD's content metric: ``sum_l ||Fbar_l^c - Fbar_l^o||^2`` (sum of squares, not a mean).

    ``Fbar`` is the feature centred by its per-sample, per-channel spatial mean. Because it is a sum,
    the value grows with the image area (PCA-KD reports about 2.2e6 at HD-FHD on PST).

    Args:
        output_feats: ``{tap: (B, C, H, W)}`` features of the stylised output.
        content_feats: ``{tap: (B, C, H, W)}`` features of the content image (same shapes).
        layers: Taps to sum over (PCA-KD: ``relu4_1``).
        reduction: ``"none"``, ``"mean"`` or ``"sum"`` over the batch.

    Returns:
        ``(B,)`` or a scalar.

    Raises:
        ValueError: If a layer is missing or the shapes differ.
    """
    layers = check_layers(layers, output_feats, content_feats)
    per_layer: list[Tensor] = []
    for layer in layers:
        fo, fc = output_feats[layer].flatten(2), content_feats[layer].flatten(2)
        check_same_shape(fo, fc, layer, "the centred content loss")
        diff = (fc - fc.mean(dim=2, keepdim=True)) - (fo - fo.mean(dim=2, keepdim=True))
        per_layer.append(diff.pow(2).sum(dim=(1, 2)))
    return reduce_per_sample(torch.stack(per_layer).sum(0), reduction)


def normalized_content_loss(
    output_feats: Mapping[str, Tensor],
    content_feats: Mapping[str, Tensor],
    layers: Sequence[str],
    eps: float = 1e-5,
    unbiased: bool = True,
    reduction: Reduction = "mean",
) -> Tensor:
    r"""SANet's content loss: ``sum_l mean (IN(F_l^o) - IN(F_l^c))^2``.

    ``IN(F) = (F - mu) / sqrt(var + eps)`` per sample and channel; SANet's ``mean_variance_norm`` uses
    the unbiased variance and ``eps = 1e-5`` (the defaults). Invariant to a positive per-channel
    rescaling of the encoder, so the Caffe VGG-19 and the "normalised" VGG-19 give the same value up to
    ``eps``.

    Args:
        output_feats: ``{tap: (B, C, H, W)}`` features of the stylised output.
        content_feats: ``{tap: (B, C, H, W)}`` features of the content image (same shapes).
        layers: Taps to sum over (SANet: ``relu4_1, relu5_1``).
        eps: Variance epsilon.
        unbiased: Variance divisor ``N - 1`` (True) or ``N``.
        reduction: ``"none"``, ``"mean"`` or ``"sum"`` over the batch.

    Returns:
        ``(B,)`` or a scalar.

    Raises:
        ValueError: If a layer is missing or the shapes differ.
    """
    layers = check_layers(layers, output_feats, content_feats)
    per_layer: list[Tensor] = []
    for layer in layers:
        fo, fc = output_feats[layer], content_feats[layer]
        check_same_shape(fo, fc, layer, "the normalised content loss")
        no = instance_normalize(fo, eps=eps, unbiased=unbiased)
        nc = instance_normalize(fc, eps=eps, unbiased=unbiased)
        per_layer.append((no - nc).pow(2).flatten(1).mean(1))
    return reduce_per_sample(torch.stack(per_layer).sum(0), reduction)
