"""IFT on the shipped pretrained relu3_1 pair: the network of the ``pretrained_r31`` preset.

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

By default the decoder is frozen (no training). ``fine_tune_decoder=True`` (a CPU option of stylelab, used
by the model zoo's ``configs/zoo/ift.yaml``) leaves it trainable: :meth:`IFTR31Net.ae_losses` is IFT's
L_AE (supplement Eq. 28) for this encoder/decoder pair, the encoder stays frozen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

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
    """Frozen vgg_normalised encoder to relu3_1, IFT at relu3_1, the pretrained relu3_1 decoder.

    Args:
        fine_tune_decoder: Leave the pretrained decoder trainable (:meth:`ae_losses`); ``False`` (the
            ``pretrained_r31`` preset) freezes it and keeps it in eval mode.

    Shapes:
        content ``(B, 3, H, W)`` and styles ``(B|1, 3, H_k, W_k)`` RGB [0, 1], sides multiples of
        :attr:`multiple_of` (4); features ``(B, 256, H/4, W/4)``; output ``(B, 3, H, W)`` in [0, 1].
    """

    #: Image sides must be multiples of this (two max-pools).
    multiple_of = MULTIPLE_OF
    #: The only transformed level.
    level = LAYER

    def __init__(self, fine_tune_decoder: bool = False) -> None:
        super().__init__()
        self.fine_tune_decoder = fine_tune_decoder
        self.pipeline = PretrainedR31(frozen_decoder=not fine_tune_decoder)

    @property
    def decoder(self) -> nn.Module:
        """The relu3_1 decoder (trainable only with ``fine_tune_decoder``)."""
        return self.pipeline.decoder

    def encode(self, image: Tensor) -> Tensor:
        """relu3_1 ``(B, 256, H/4, W/4)`` of RGB [0, 1] ``(B, 3, H, W)`` (raw vgg_normalised units)."""
        return self.pipeline.encode(image)  # type: ignore[return-value]

    def decode(self, feature: Tensor, clamp: bool = True) -> Tensor:
        """RGB ``(B, 3, 4h, 4w)`` from a relu3_1 feature ``(B, 256, h, w)``; raw with ``clamp=False``.

        Clamped to [0, 1] by default; training losses use the raw output.
        """
        return self.pipeline.decode(feature, clamp=clamp)

    def ae_losses(
        self, image: Tensor, level: str, reduction: Literal["sum", "mean"] = "sum", intermediate: bool = False
    ) -> dict[str, Tensor]:
        """Supplement Eq. 28 for this pair: ``||D(E(I)) - I||^2 + ||E(D(E(I))) - E(I)||^2``.

        ``E`` is the frozen encoder to relu3_1 (raw vgg_normalised units: this network has no channel
        scales), ``D`` the decoder's raw (unclamped) output. Same contract as
        :meth:`stylelab.methods.ift.model.IFTNet.ae_losses`: ``reduction="sum"`` sums each image's
        squares and averages over the batch (the paper's Frobenius norms), ``"mean"`` averages every
        element. Gradients reach only the decoder's parameters (through both terms).

        Args:
            image: ``(B, 3, H, W)`` RGB [0, 1], sides multiples of 4.
            level: Must be ``"relu3_1"`` (the only level of this network).
            reduction: See above.
            intermediate: Not available (the decoder has no block boundary with a feature target).

        Returns:
            ``{"pixel", "feature"}`` scalars.

        Raises:
            ValueError: Another level, an unknown reduction, or ``intermediate=True``.
        """
        if level != self.level:
            raise ValueError(f"IFTR31Net has one autoencoder, {self.level}; got level {level!r}")
        if reduction not in ("sum", "mean"):
            raise ValueError(f"reduction must be 'sum' or 'mean'; got {reduction!r}")
        if intermediate:
            raise ValueError("IFTR31Net has no intermediate reproduction term (one decoder, no blocks)")
        target = self.encode(image)
        output = self.decode(target, clamp=False)
        reproduced = self.encode(output)

        def reduce(x: Tensor) -> Tensor:
            return x.pow(2).sum() / x.shape[0] if reduction == "sum" else x.pow(2).mean()

        return {"pixel": reduce(output - image), "feature": reduce(reproduced - target)}

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

    def variant(self) -> str:
        """Network description for tables (says whether the decoder is the shipped one or fine-tuned)."""
        decoder = (
            "relu3_1 decoder fine-tuned with IFT's L_AE from the pretrained one (LinearStyleTransfer "
            "decoder3)"
            if self.fine_tune_decoder
            else "pretrained relu3_1 decoder (LinearStyleTransfer decoder3)"
        )
        return (
            "exact vgg_normalised VGG-19 to relu3_1 (reflect pad, raw features, no channel scales) + "
            + decoder
        )
