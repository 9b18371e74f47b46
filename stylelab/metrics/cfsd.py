r"""CFSD, Content Feature Structural Distance (StyleID: Chung, Hyun & Heo, CVPR 2024).

Paper: "Style Injection in Diffusion: A Training-free Approach for Adapting Large-scale Diffusion Models
for Style Transfer".

Source of the definition: the authors' evaluation code, github.com/jiwoogit/StyleID,
``evaluation/image_metrics.py`` (class ``PatchSimi``) and ``evaluation/eval_artfid.py``
(``compute_cfsd``), commit ``d541d410``. Restated:

1. ``F`` = features of one image at VGG-19 ``relu3_1`` (torchvision ``vgg19().features[:12]``,
   ImageNet weights and mean/std preprocessing, images at native size), reshaped to ``N x C``
   (``N = h w`` positions) and divided by ``C``.
2. Patch-similarity map ``S = F F^T`` (``N x N``, i.e. ``<f_i, f_j> / C^2``), and a row softmax
   ``P[i, :] = softmax_j S[i, j]``: each position's distribution of similarity over all positions.
3. ``CFSD(output, content) = sum_i KL(P_c[i, :] || P_o[i, :])``, the KL from the *content*
   distribution to the output's, *summed* over the ``N`` rows (``F.kl_div(log P_o, P_c,
   reduction="batchmean")`` on the flattened maps with batch 1), then averaged over images.

Choices (and where we differ): the reference evaluates with batch size 1, so the per-image sum over
rows is what gets averaged; we do the same. The value scales with ``N`` (image area); compare only at
equal sizes (StyleID: 512 x 512). The default encoder is torchvision's ImageNet VGG-19 as in the
reference (``weights="vgg19_torchvision"``, downloaded or placed in ``$STYLELAB_WEIGHTS``); offline you may
pass ``weights="vgg19_caffe_q8"`` or an encoder, which changes the numbers (the variant string says
which). ``S`` has ``N^2`` entries (16384^2 at 512 x 512, 1 GiB in float32), so rows are processed in
chunks of ``chunk_size``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from stylelab.losses.reduction import Reduction, reduce_per_sample
from stylelab.metrics.base import MeanOfValues
from stylelab.metrics.encoder import EncoderSlot, FeatureEncoder

DEFAULT_LAYER = "relu3_1"
DEFAULT_WEIGHTS = "vgg19_torchvision"


def cfsd_from_features(output_feat: Tensor, content_feat: Tensor, chunk_size: int | None = 4096) -> Tensor:
    r"""CFSD per sample from one feature map each: ``sum_i KL(P_c[i] || P_o[i])`` (module docstring).

    Args:
        output_feat: ``(B, C, h, w)`` features of the stylised output.
        content_feat: ``(B, C, h, w)`` features of the content image (same shape).
        chunk_size: Rows of the ``N x N`` similarity map processed at once (``None``: all).

    Returns:
        ``(B,)``, non-negative; 0 when the two feature maps are equal.

    Raises:
        ValueError: On shape mismatch or a non-positive ``chunk_size``.
    """
    if output_feat.shape != content_feat.shape or output_feat.dim() != 4:
        raise ValueError(
            f"CFSD compares (B, C, h, w) feature maps of equal shape; got {tuple(output_feat.shape)} and "
            f"{tuple(content_feat.shape)} (output and content images must have the same size)"
        )
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"chunk_size must be positive or None; got {chunk_size}")
    channels = output_feat.shape[1]
    fo = output_feat.flatten(2).transpose(1, 2) / channels  # (B, N, C)
    fc = content_feat.flatten(2).transpose(1, 2) / channels
    n = fo.shape[1]
    step = n if chunk_size is None else chunk_size
    total = fo.new_zeros(fo.shape[0])
    for start in range(0, n, step):
        rows = slice(start, start + step)
        log_p_c = F.log_softmax(torch.bmm(fc[:, rows], fc.transpose(1, 2)), dim=-1)
        log_p_o = F.log_softmax(torch.bmm(fo[:, rows], fo.transpose(1, 2)), dim=-1)
        total = total + (log_p_c.exp() * (log_p_c - log_p_o)).sum(dim=(1, 2))
    return total


def _check_images(output: Tensor, content: Tensor) -> None:
    if output.shape != content.shape or output.dim() != 4 or output.shape[1] != 3:
        raise ValueError(
            f"CFSD needs RGB (B, 3, H, W) output and content images of equal shape; got "
            f"{tuple(output.shape)} and {tuple(content.shape)}"
        )


def cfsd(
    output: Tensor,
    content: Tensor,
    layer: str = DEFAULT_LAYER,
    encoder: FeatureEncoder | None = None,
    weights: str = DEFAULT_WEIGHTS,
    chunk_size: int | None = 4096,
    reduction: Reduction = "mean",
) -> Tensor:
    """CFSD between stylised outputs and their content images (functional twin of :class:`CFSD`).

    Args:
        output: ``(B, 3, H, W)`` RGB in ``[0, 1]``.
        content: Same shape.
        layer: Encoder tap (StyleID: ``relu3_1``).
        encoder: ``encoder(images, taps) -> {tap: features}``; ``None`` builds (once, cached) a frozen
            VGG-19 with ``weights``.
        weights: Registry weights of the default encoder (reference: ``"vgg19_torchvision"``).
        chunk_size: Similarity-map rows per chunk (memory ``B * chunk_size * N``).
        reduction: ``"none"`` (per-image ``(B,)``), ``"mean"`` or ``"sum"``.

    Returns:
        ``(B,)`` or a scalar (lower is better, 0 for identical images).
    """
    _check_images(output, content)
    slot = EncoderSlot(encoder, weights, [layer])
    values = cfsd_from_features(slot.encode(output)[layer], slot.encode(content)[layer], chunk_size)
    return reduce_per_sample(values, reduction)


class CFSD(MeanOfValues):
    """Mean CFSD over all (output, content) pairs seen (module docstring for the definition).

    Args:
        layer: Encoder tap (default ``relu3_1``).
        encoder: Injected encoder; ``None`` builds the default VGG-19 lazily on the first update.
        weights: Registry weights of the default encoder (default torchvision VGG-19, as StyleID).
        encoder_name: Label of the encoder in :attr:`variant`.
        chunk_size: Similarity-map rows per chunk.
        kwargs: torchmetrics ``Metric`` options.
    """

    higher_is_better = False

    def __init__(
        self,
        layer: str = DEFAULT_LAYER,
        encoder: FeatureEncoder | None = None,
        weights: str = DEFAULT_WEIGHTS,
        encoder_name: str | None = None,
        chunk_size: int | None = 4096,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.layer = layer
        self.chunk_size = chunk_size
        self._slot = EncoderSlot(encoder, weights, [layer], encoder_name)

    def update(self, output: Tensor, content: Tensor) -> None:
        """Add a batch: ``output`` and ``content`` ``(B, 3, H, W)``, RGB ``[0, 1]``, same size."""
        _check_images(output, content)
        values = cfsd_from_features(
            self._slot.encode(output)[self.layer], self._slot.encode(content)[self.layer], self.chunk_size
        )
        self._accumulate(values)

    @property
    def variant(self) -> str:
        """E.g. ``"CFSD (StyleID): relu3_1 ... torchvision VGG-19"``."""
        return (
            f"CFSD (StyleID): {self.layer} features / C, row-softmax of F F^T, "
            f"sum over positions of KL(content || output), {self._slot.name}"
        )
