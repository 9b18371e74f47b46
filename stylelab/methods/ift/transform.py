"""One level's feature transform (IFT, or the WCT/AdaIN blends it is compared with) and mask preparation.

Shared by both IFT networks: :class:`stylelab.methods.ift.model.IFTNet` (four trained decoder blocks) and
:class:`stylelab.methods.ift.pretrained.IFTR31Net` (the shipped relu3_1 encoder/decoder pair).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor

from stylelab.methods.ift.presets import LevelSetting
from stylelab.ops import adain, zca_transform
from stylelab.ops.ift import (
    IFTDivergenceError,
    StepRule,
    Unmatched,
    check_mask_matches,
    ift_transform,
    match_labels,
    normalize_style_weights,
    resize_labels,
)

Transform = Literal["ift", "zca", "adain"]
OnDivergence = Literal["line_search", "raise", "ignore"]


def transform_feature(
    level: str,
    feat: Tensor,
    style_feats: Sequence[Tensor],
    weights: Sequence[float],
    setting: LevelSetting,
    *,
    step: float = 0.01,
    step_rule: StepRule = "fixed",
    n_iter: int = 1,
    transform: Transform = "ift",
    alpha: float = 1.0,
    content_mask: Tensor | None = None,
    style_masks: Sequence[Tensor] | None = None,
    labels: Sequence[Sequence[Sequence[int]]] | None = None,
    unmatched: Unmatched = "keep",
    on_divergence: OnDivergence = "line_search",
) -> Tensor:
    """Transform one level's feature ``(B, C, h, w)`` towards the styles' features ``(B|1, C, h_k, w_k)``.

    ``transform="ift"`` runs :func:`stylelab.ops.ift.ift_transform` with ``setting`` (lambda, n_upd);
    ``"zca"`` / ``"adain"`` are the reference code's comparisons: each style's transformed feature (Chiu's
    ZCA: ``+I`` on both covariances, ``/N``; AdaIN with biased variance, eps 1e-8), averaged with the
    normalised weights, then blended ``(1 - alpha) F_c + alpha F_t``.

    Args:
        level: Level name (for messages).
        feat: Content feature ``(B, C, h, w)``.
        style_feats: One feature per style.
        weights: One weight per style.
        setting: The level's lambda and n_upd.
        step: Fixed step. step_rule: ``"fixed"`` / ``"line_search"``. n_iter: outer rounds.
        transform: ``"ift"``, ``"zca"`` or ``"adain"``.
        alpha: Blend of the comparison transforms (ignored by IFT, as in the reference).
        content_mask: ``(B, H, W)`` labels (IFT only). style_masks: one label map per style.
        labels: Labels matched per sample and style (see :func:`ift_transform`).
        unmatched: ``"keep"`` / ``"global"``.
        on_divergence: ``"line_search"`` (redo a diverging fixed step with the line search, with a
            warning), ``"raise"`` or ``"ignore"``.

    Returns:
        ``(B, C, h, w)`` transformed feature.

    Raises:
        ValueError: Unknown transform, or masks with a comparison transform.
        IFTDivergenceError: With ``on_divergence="raise"`` (or a diverging line search).
    """
    x, ys = feat, list(style_feats)
    if transform == "ift":
        kwargs = {
            "lam": setting.lam,
            "step": step,
            "n_upd": setting.n_upd,
            "n_iter": n_iter,
            "content_labels": content_mask,
            "style_labels": style_masks,
            "labels": labels,
            "unmatched": unmatched,
        }
        try:
            return ift_transform(
                x, ys, weights, step_rule=step_rule, check_divergence=on_divergence != "ignore", **kwargs
            )
        except IFTDivergenceError:
            if on_divergence != "line_search" or step_rule == "line_search":
                raise
            warnings.warn(
                f"IFT fixed step diverged at {level} (lam={setting.lam}, step={step}); "
                "redoing this level with the exact line search",
                stacklevel=3,
            )
            return ift_transform(x, ys, weights, step_rule="line_search", **kwargs)
    if transform in ("zca", "adain"):
        if content_mask is not None:
            raise ValueError("masks (spatial control) are supported by transform='ift' only")
        values, total = normalize_style_weights(weights, len(ys))
        out = torch.zeros_like(x)
        for w, y in zip(values, ys, strict=True):
            y = y.expand(x.shape[0], -1, -1, -1)
            if transform == "zca":
                t = zca_transform(x, y, regularizer=1.0, reg_on="both", normalizer="N")
            else:
                t = adain(x, y, eps=1e-8, unbiased=False)
            out = out + (w / total) * t
        return (1.0 - alpha) * x + alpha * out
    raise ValueError(f"transform must be 'ift', 'zca' or 'adain'; got {transform!r}")


def prepare_masks(
    content: Tensor,
    styles: Sequence[Tensor],
    content_mask: Tensor | None,
    style_masks: Sequence[Tensor] | None,
) -> tuple[Tensor, list[Tensor]] | None:
    """Masks as ``(B, H, W)`` / ``(B|1, H_k, W_k)`` label maps at their images' sizes (None: no masks).

    Args:
        content: ``(B, 3, H, W)`` content images.
        styles: ``(B|1, 3, H_k, W_k)`` style images.
        content_mask: ``(B|1, H', W')`` or ``(H', W')`` labels of the content's aspect ratio, or None.
        style_masks: One label map per style, or None.

    Raises:
        ValueError: Only one side given, wrong count, batch or aspect ratio.
    """
    if content_mask is None and style_masks is None:
        return None
    if content_mask is None or style_masks is None:
        raise ValueError("spatial control needs a content mask and one mask per style (or neither)")
    style_masks = list(style_masks)
    if len(style_masks) != len(styles):
        raise ValueError(f"got {len(style_masks)} style masks for {len(styles)} styles; give one per style")

    def fit(mask: Tensor, image: Tensor, name: str) -> Tensor:
        size = tuple(image.shape[-2:])
        check_mask_matches(mask, size, name, rel_tol=0.02)
        mask = mask if mask.dim() == 3 else mask.unsqueeze(0)
        if mask.shape[0] not in (1, image.shape[0]):
            raise ValueError(f"{name} has batch {mask.shape[0]}; its image has {image.shape[0]}")
        return resize_labels(mask.long(), size).to(image.device)  # type: ignore[arg-type]

    c_mask = fit(content_mask, content, "content mask")
    if c_mask.shape[0] == 1 and content.shape[0] > 1:
        c_mask = c_mask.expand(content.shape[0], -1, -1)
    return c_mask, [
        fit(m, s, f"style mask {k}") for k, (m, s) in enumerate(zip(style_masks, styles, strict=True))
    ]


def matched_labels(masks: tuple[Tensor, list[Tensor]] | None, batch: int) -> list[list[list[int]]] | None:
    """Labels matched once at image resolution, per sample and style (the reference's matching)."""
    if masks is None:
        return None
    c_mask, s_masks = masks
    return [
        [match_labels(c_mask[b], sm[b if sm.shape[0] > 1 else 0]) for sm in s_masks] for b in range(batch)
    ]
