"""IFT on the shipped pretrained relu3_1 pair: the network of the ``pretrained_r31`` preset (no training).

``output = D(T(E(c), {E(s_k)}))`` with ``E`` the exact vgg_normalised VGG-19 up to relu3_1 (reflection
padding), ``D`` the pretrained decoder that inverts it (LinearStyleTransfer's ``decoder3``; both ship with
stylelab, :mod:`stylelab.nn.pretrained_r31`) and ``T`` IFT's transform at relu3_1 (supplement Eq. 1-2,
:func:`stylelab.methods.ift.transform.transform_feature`): several weighted styles inside the objective,
masks, or the WCT/AdaIN blends it is compared with.

Features are used as the encoder gives them. vgg_normalised *is* the Caffe VGG-19 rescaled so that each
channel's mean activation over images and positions is one (Gatys et al.), which is what
:class:`~stylelab.methods.ift.model.IFTNet` imitates with its fitted channel scales
(``reports/ift/channel_scales.md``): dividing again would double-normalise, so this network has no
channel scales and no calibration. With one transformed level the two pipelines coincide (transform the
bottleneck, decode).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from torch import Tensor, nn

from stylelab.methods.ift.presets import LevelSetting
from stylelab.methods.ift.transform import (
    OnDivergence,
    Transform,
    matched_labels,
    prepare_masks,
    transform_feature,
)
from stylelab.nn.pretrained_r31 import LAYER, MULTIPLE_OF, PretrainedR31
from stylelab.ops.ift import StepRule, Unmatched, normalize_style_weights


class IFTR31Net(nn.Module):
    """Frozen vgg_normalised encoder to relu3_1, IFT at relu3_1, frozen pretrained decoder.

    Shapes:
        content ``(B, 3, H, W)`` and styles ``(B|1, 3, H_k, W_k)`` RGB [0, 1], sides multiples of
        :attr:`multiple_of` (4); features ``(B, 256, H/4, W/4)``; output ``(B, 3, H, W)`` in [0, 1].
    """

    #: Image sides must be multiples of this (two max-pools).
    multiple_of = MULTIPLE_OF
    #: The only transformed level.
    level = LAYER

    def __init__(self) -> None:
        super().__init__()
        self.pipeline = PretrainedR31(frozen_decoder=True)

    def encode(self, image: Tensor) -> Tensor:
        """relu3_1 ``(B, 256, H/4, W/4)`` of RGB [0, 1] ``(B, 3, H, W)`` (raw vgg_normalised units)."""
        return self.pipeline.encode(image)  # type: ignore[return-value]

    def decode(self, feature: Tensor) -> Tensor:
        """RGB ``(B, 3, 4h, 4w)`` in [0, 1] from a relu3_1 feature ``(B, 256, h, w)``."""
        return self.pipeline.decode(feature)

    def stylize(
        self,
        content: Tensor,
        styles: Sequence[Tensor],
        weights: Sequence[float] | None = None,
        *,
        levels: Mapping[str, LevelSetting],
        pipeline: str = "coarse_to_fine",
        step: float = 0.01,
        step_rule: StepRule = "line_search",
        n_iter: int = 1,
        transform: Transform = "ift",
        alpha: float = 1.0,
        content_mask: Tensor | None = None,
        style_masks: Sequence[Tensor] | None = None,
        unmatched: Unmatched = "keep",
        on_divergence: OnDivergence = "line_search",
    ) -> Tensor:
        """IFT of ``content`` towards ``styles`` at relu3_1, decoded.

        Args:
            content: ``(B, 3, H, W)`` RGB [0, 1], ``H`` and ``W`` multiples of 4.
            styles: Style images ``(B|1, 3, H_k, W_k)``.
            weights: One weight per style (default ``1/q``); inside the objective, not a blend.
            levels: ``{"relu3_1": LevelSetting}`` (the ``pretrained_r31`` preset and its overrides).
            pipeline: Accepted for the interface of :meth:`IFTNet.stylize`; with one level both
                pipelines are the same computation.
            step: Fixed step. step_rule: ``"fixed"`` / ``"line_search"``. n_iter: outer rounds.
            transform: ``"ift"``, or the comparisons ``"zca"`` / ``"adain"`` (linear blends of styles).
            alpha: Blend of the comparison transforms.
            content_mask: ``(B, H, W)`` or ``(H, W)`` integer labels of the content.
            style_masks: One ``(B|1, H_k, W_k)`` / ``(H_k, W_k)`` label map per style.
            unmatched: ``"keep"`` / ``"global"``.
            on_divergence: ``"line_search"``, ``"raise"`` or ``"ignore"``.

        Returns:
            ``(B, 3, H, W)`` RGB in [0, 1].

        Raises:
            ValueError: ``levels`` other than relu3_1, bad pipeline, weights or masks.
        """
        if set(levels) != {self.level}:
            raise ValueError(f"IFTR31Net transforms {self.level} only; got levels {sorted(levels)}")
        if pipeline not in ("coarse_to_fine", "fine_to_coarse"):
            raise ValueError(f"pipeline must be 'coarse_to_fine' or 'fine_to_coarse'; got {pipeline!r}")
        styles = list(styles)
        values, _ = normalize_style_weights(weights, len(styles))
        masks = prepare_masks(content, styles, content_mask, style_masks)
        feat = self.encode(content)
        setting = levels[self.level]
        if setting.n_upd > 0 or transform != "ift":
            feat = transform_feature(
                self.level,
                feat,
                [self.encode(s) for s in styles],
                values,
                setting,
                step=step,
                step_rule=step_rule,
                n_iter=n_iter,
                transform=transform,
                alpha=alpha,
                content_mask=None if masks is None else masks[0],
                style_masks=None if masks is None else masks[1],
                labels=matched_labels(masks, content.shape[0]),
                unmatched=unmatched,
                on_divergence=on_divergence,
            )
        return self.decode(feat)

    @staticmethod
    def variant() -> str:
        """Network description for tables."""
        return (
            "exact vgg_normalised VGG-19 to relu3_1 (reflect pad, raw features, no channel scales) + "
            "pretrained relu3_1 decoder (LinearStyleTransfer decoder3)"
        )
