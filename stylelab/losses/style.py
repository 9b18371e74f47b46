r"""Feature-level style losses: Gram MSE, covariance Frobenius, mean/std.

Each function takes the encoder features of the stylised output and of the style image (dicts keyed by
tap name) and returns a per-sample loss summed over ``layers``. With ``F_l`` the ``C_l x N_l`` features
of one sample at layer ``l``:

* Gram (Johnson, StyleBank, SK): ``sum_l mean_ij (G(F_l^o) - G(F_l^s))_ij^2`` with ``G = F F^T / d``.
* covariance (PCA-KD metric, after Gatys): ``sum_l sum_ij (Cov(F_l^s) - Cov(F_l^o))_ij^2``, i.e. the
  squared Frobenius norm.
* mean/std (AdaIN, SANet, IEC): ``sum_l [mean_c (mu_l^o - mu_l^s)^2 + mean_c (sigma_l^o - sigma_l^s)^2]``.

``mean_c`` and ``mean_ij`` are means over channels / matrix entries (PyTorch ``mse_loss``). The style
features may have batch 1, in which case the single style is compared with every output sample. Output
and style images may have different sizes: all three statistics are size independent (given ``d``
includes ``N`` for the Gram).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor

from stylelab.losses._features import check_layers, check_style_batch
from stylelab.losses.reduction import Reduction, reduce_per_sample
from stylelab.ops.gram import GramNormalization, gram_matrix
from stylelab.ops.moments import covariance, mean_std


def gram_style_loss(
    output_feats: Mapping[str, Tensor],
    style_feats: Mapping[str, Tensor],
    layers: Sequence[str],
    normalize: GramNormalization = "CN",
    reduction: Reduction = "mean",
) -> Tensor:
    r"""Gram-matrix style loss (Johnson et al. 2016; StyleBank; SK's ``L_sty``).

    ``loss = sum_l mean_ij (G_l^o - G_l^s)_ij^2`` with ``G = F F^T / d`` per sample and
    ``d = C N`` (``"CN"``, Johnson), ``N`` or 1 (see :func:`stylelab.ops.gram_matrix`).

    Args:
        output_feats: ``{tap: (B, C, H, W)}`` features of the stylised output.
        style_feats: ``{tap: (B or 1, C, H', W')}`` features of the style image(s).
        layers: Taps to sum over.
        normalize: Gram divisor ``"none"``, ``"N"`` or ``"CN"``.
        reduction: ``"none"`` (per-sample ``(B,)``), ``"mean"`` or ``"sum"`` over the batch.

    Returns:
        ``(B,)`` or a scalar, in the features' dtype.

    Raises:
        ValueError: If a layer is missing or the batch/channel counts do not match.
    """
    layers = check_layers(layers, output_feats, style_feats)
    per_layer: list[Tensor] = []
    for layer in layers:
        fo, fs = output_feats[layer], style_feats[layer]
        check_style_batch(fo, fs, layer)
        diff = gram_matrix(fo, normalize) - gram_matrix(fs, normalize)
        per_layer.append(diff.pow(2).mean(dim=(1, 2)))
    return reduce_per_sample(torch.stack(per_layer).sum(0), reduction)


def covariance_style_loss(
    output_feats: Mapping[str, Tensor],
    style_feats: Mapping[str, Tensor],
    layers: Sequence[str],
    unbiased: bool = False,
    reduction: Reduction = "mean",
) -> Tensor:
    r"""Covariance style loss of PCA-KD's evaluation (Chiu & Gurari 2022, after Gatys et al.).

    ``loss = sum_l ||Cov(F_l^s) - Cov(F_l^o)||_F^2`` (plain sum of squares over the ``C x C`` entries),
    ``Cov = Fbar Fbar^T / N`` with ``Fbar`` centred per channel (``/(N-1)`` if ``unbiased``). The paper
    drops the ``1/N`` "for brevity"; ``/N`` keeps the value independent of the image size (spec 5.7).

    Args:
        output_feats: ``{tap: (B, C, H, W)}`` features of the stylised output.
        style_feats: ``{tap: (B or 1, C, H', W')}`` features of the style image(s).
        layers: Taps to sum over (PCA-KD: ``relu1_1 .. relu4_1``).
        unbiased: Covariance divisor ``N - 1`` instead of ``N``.
        reduction: ``"none"``, ``"mean"`` or ``"sum"`` over the batch.

    Returns:
        ``(B,)`` or a scalar.

    Raises:
        ValueError: If a layer is missing or the batch/channel counts do not match.
    """
    layers = check_layers(layers, output_feats, style_feats)
    per_layer: list[Tensor] = []
    for layer in layers:
        fo, fs = output_feats[layer], style_feats[layer]
        check_style_batch(fo, fs, layer)
        diff = covariance(fs, unbiased=unbiased) - covariance(fo, unbiased=unbiased)
        per_layer.append(diff.pow(2).sum(dim=(1, 2)))
    return reduce_per_sample(torch.stack(per_layer).sum(0), reduction)


def mean_std_style_loss(
    output_feats: Mapping[str, Tensor],
    style_feats: Mapping[str, Tensor],
    layers: Sequence[str],
    eps: float = 1e-5,
    unbiased: bool = True,
    reduction: Reduction = "mean",
) -> Tensor:
    r"""Mean/std style loss (AdaIN, SANet, IEC; a candidate for SK's Table 2 "Sty Loss").

    ``loss = sum_l [ mean_c (mu_l^o - mu_l^s)^2 + mean_c (sigma_l^o - sigma_l^s)^2 ]`` with per-channel
    spatial mean ``mu`` and ``sigma = sqrt(var + eps)`` (:func:`stylelab.ops.mean_std`; the default
    ``unbiased=True, eps=1e-5`` is pytorch-AdaIN's ``calc_mean_std``).

    Args:
        output_feats: ``{tap: (B, C, H, W)}`` features of the stylised output.
        style_feats: ``{tap: (B or 1, C, H', W')}`` features of the style image(s).
        layers: Taps to sum over.
        eps: Variance epsilon inside the square root.
        unbiased: Variance divisor ``N - 1`` (True) or ``N``.
        reduction: ``"none"``, ``"mean"`` or ``"sum"`` over the batch.

    Returns:
        ``(B,)`` or a scalar.

    Raises:
        ValueError: If a layer is missing or the batch/channel counts do not match.
    """
    layers = check_layers(layers, output_feats, style_feats)
    per_layer: list[Tensor] = []
    for layer in layers:
        fo, fs = output_feats[layer], style_feats[layer]
        check_style_batch(fo, fs, layer)
        mu_o, sigma_o = mean_std(fo, eps=eps, unbiased=unbiased)
        mu_s, sigma_s = mean_std(fs, eps=eps, unbiased=unbiased)
        mse_mu = (mu_o - mu_s).pow(2).flatten(1).mean(1)
        mse_sigma = (sigma_o - sigma_s).pow(2).flatten(1).mean(1)
        per_layer.append(mse_mu + mse_sigma)
    return reduce_per_sample(torch.stack(per_layer).sum(0), reduction)


__all__ = ["covariance_style_loss", "gram_style_loss", "mean_std_style_loss"]
