"""Single-level WCT (Li et al., NeurIPS 2017) at relu3_1 of vgg_normalised, decoded by the pretrained decoder.

``output = D(alpha · WCT(f(c), f(s)) + (1 - alpha) · f(c))`` with ``f`` the exact vgg_normalised encoder to
relu3_1 and ``D`` the decoder trained to invert it (both shipped, :mod:`stylelab.nn.pretrained_r31`).
WCT whitens the content feature's covariance and colours it with the style's
(:func:`stylelab.ops.zca_transform`). With segmentation masks the transform runs per matched region
(labels used as in the IFT/PhotoWCT reference: regions > 150 positions, size ratio < 100); positions
whose label has no match keep their content feature.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from stylelab.nn.pretrained_r31 import MULTIPLE_OF, PretrainedR31
from stylelab.ops import match_labels, resize_labels, zca_transform
from stylelab.ops.zca import Normalizer


def regional_wct(
    content: Tensor,
    style: Tensor,
    content_labels: Tensor,
    style_labels: Tensor,
    **zca_options: float | str,
) -> Tensor:
    """WCT per matched label region of one sample.

    Args:
        content: ``(1, C, h, w)`` content feature.
        style: ``(1, C, h_s, w_s)`` style feature.
        content_labels: ``(h, w)`` integer labels at the feature's resolution.
        style_labels: ``(h_s, w_s)`` labels.
        **zca_options: Keyword arguments of :func:`stylelab.ops.zca_transform` (``alpha`` excluded).

    Returns:
        ``(1, C, h, w)``: transformed where a label matched, the content feature elsewhere.

    Raises:
        ValueError: Batch other than 1, or label maps of the wrong size.
    """
    if content.shape[0] != 1 or style.shape[0] != 1:
        raise ValueError("regional_wct works on one sample at a time (batch 1)")
    if content_labels.shape != content.shape[-2:] or style_labels.shape != style.shape[-2:]:
        raise ValueError(
            f"labels {tuple(content_labels.shape)} / {tuple(style_labels.shape)} must match the features "
            f"{tuple(content.shape[-2:])} / {tuple(style.shape[-2:])}"
        )
    out = content.flatten(2).clone()
    fc, fs = content.flatten(2), style.flatten(2)
    c_flat, s_flat = content_labels.flatten(), style_labels.flatten()
    for label in match_labels(content_labels, style_labels):
        c_idx = (c_flat == label).nonzero().squeeze(1)
        s_idx = (s_flat == label).nonzero().squeeze(1)
        out[:, :, c_idx] = zca_transform(fc[:, :, c_idx], fs[:, :, s_idx], **zca_options)  # type: ignore[arg-type]
    return out.reshape(content.shape)


class WCTNet(nn.Module):
    """Pretrained relu3_1 encoder, WCT, pretrained decoder.

    Args:
        regularizer: ``r`` of the ``+r I`` added to the content covariance (Li et al.'s code: 1).
        normalizer: Covariance divisor (Li et al.'s code: ``"N-1"``).
        eig_threshold: Eigenvalues below it are dropped (Li et al.'s code: 1e-5).

    Shapes:
        content ``(B, 3, H, W)`` and style ``(B or 1, 3, H_s, W_s)`` RGB [0, 1], sides multiples of 4
        (:data:`MULTIPLE_OF`); output ``(B, 3, H, W)`` in [0, 1].
    """

    multiple_of = MULTIPLE_OF

    def __init__(
        self, regularizer: float = 1.0, normalizer: Normalizer = "N-1", eig_threshold: float = 1e-5
    ) -> None:
        super().__init__()
        self.pipeline = PretrainedR31()
        self.zca_options: dict[str, float | str] = {
            "regularizer": regularizer,
            "normalizer": normalizer,
            "eig_threshold": eig_threshold,
        }

    def transfer(
        self,
        content_feat: Tensor,
        style_feat: Tensor,
        alpha: float = 1.0,
        content_labels: Tensor | None = None,
        style_labels: Tensor | None = None,
    ) -> Tensor:
        """WCT of ``(B, 256, h, w)`` features, blended with the content by ``alpha``.

        ``content_labels`` ``(B, H, W)`` / ``style_labels`` ``(B or 1, H_s, W_s)`` at any resolution are
        resized (nearest) to the features'.
        """
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        if (content_labels is None) != (style_labels is None):
            raise ValueError("give both content and style labels, or neither")
        if style_feat.shape[0] == 1 and content_feat.shape[0] > 1:
            style_feat = style_feat.expand(content_feat.shape[0], -1, -1, -1)
        if content_labels is None or style_labels is None:
            target = zca_transform(content_feat, style_feat, **self.zca_options)  # type: ignore[arg-type]
        else:
            c_lab = resize_labels(content_labels, tuple(content_feat.shape[-2:]))
            s_lab = resize_labels(style_labels, tuple(style_feat.shape[-2:]))
            target = torch.cat(
                [
                    regional_wct(
                        content_feat[i : i + 1],
                        style_feat[i : i + 1],
                        c_lab[i],
                        s_lab[min(i, s_lab.shape[0] - 1)],
                        **self.zca_options,
                    )
                    for i in range(content_feat.shape[0])
                ]
            )
        return alpha * target + (1.0 - alpha) * content_feat

    def forward(
        self,
        content: Tensor,
        style: Tensor,
        alpha: float = 1.0,
        content_labels: Tensor | None = None,
        style_labels: Tensor | None = None,
    ) -> Tensor:
        """Stylise ``content`` with ``style`` (see the class docstring for shapes)."""
        target = self.transfer(
            self.pipeline.encode(content),  # type: ignore[arg-type]
            self.pipeline.encode(style),  # type: ignore[arg-type]
            alpha,
            content_labels,
            style_labels,
        )
        return self.pipeline.decode(target)
