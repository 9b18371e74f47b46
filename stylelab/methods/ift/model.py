"""IFT network (Chiu & Gurari, ECCV 2020): VGG-19 split at relu1_1..relu4_1, skip decoders, transforms.

Encoder: frozen VGG-19 cut into four steps ``image -> relu1_1 -> relu2_1 -> relu3_1 -> relu4_1``; the
steps into relu2_1, relu3_1 and relu4_1 also return their pre-pool activations relu1_2, relu2_2 and
relu3_4, the *skips*. Decoder: four blocks that invert the steps::

    relu4_1 -> relu3_1   conv 512->512, up x2, + skip, conv 512->256, conv 256->256, conv 256->256
    relu3_1 -> relu2_1   conv 256->256, up x2, + skip, conv 256->128
    relu2_1 -> relu1_1   conv 128->128, up x2, + skip, conv 128->64
    relu1_1 -> RGB       conv 64->3 (linear)

(3x3 convolutions with zero 'same' padding and ReLU, bilinear x2 upsampling). The skip is the
*content's* pre-pool feature, instance-normalised (biased variance, eps 1e-8 inside the square root)
and concatenated with itself to the block's width. 5,828,099 decoder parameters.

The decoder and the transforms work on features divided by a per-channel scale, the channel's mean
activation over training images: this is how ``vgg_normalised`` (the reference encoder) was derived
from the Caffe VGG-19 ("each filter scaled so that its mean activation over images and positions is
one", Gatys et al.), so the reference's lambda tables keep their meaning with the Caffe weights
stylelab ships, and the decoder sees inputs of order one. The scales are buffers fitted on the
training images (running mean over the first ``calibration_images``) or by :meth:`IFTNet.calibrate`,
and saved in checkpoints. Encoder features (``encode``) are raw; ``normalize``/``denormalize`` convert.

Pipelines: ``coarse_to_fine`` (reference default) transforms relu4_1, decodes one block, transforms the
decoder's relu3_1 against the style's relu3_1, ... down to relu1_1; ``fine_to_coarse`` transforms
relu1_1 .. relu4_1 on the way down the encoder and decodes without transforms.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from stylelab.backbones import VGGEncoder
from stylelab.methods.ift.presets import LEVELS, LevelSetting
from stylelab.methods.ift.transform import (
    OnDivergence,
    Transform,
    matched_labels,
    prepare_masks,
    transform_feature,
)
from stylelab.ops import instance_normalize
from stylelab.ops.ift import StepRule, Unmatched, normalize_style_weights

Pipeline = Literal["coarse_to_fine", "fine_to_coarse"]
FeatureNorm = Literal["mean_activation", "none"]

#: Pre-pool activation returned as a skip by the encoder step *into* each level.
SKIP_OF: dict[str, str] = {"relu2_1": "relu1_2", "relu3_1": "relu2_2", "relu4_1": "relu3_4"}
#: Encoder-side and decoder-side transform levels of the named pipelines.
PIPELINES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "coarse_to_fine": (("relu4_1",), ("relu3_1", "relu2_1", "relu1_1")),
    "fine_to_coarse": (LEVELS, ()),
}
_WIDTH = {"relu1_1": 64, "relu2_1": 128, "relu3_1": 256, "relu4_1": 512}
_SKIP_EPS = 1e-8


class DecoderBlock(nn.Module):
    """Decoder block inverting the encoder step into ``level`` (see the module docstring).

    Args:
        level: ``"relu1_1"`` (to RGB) .. ``"relu4_1"`` (to relu3_1).

    Shapes:
        ``(B, C_level, h, w)`` (+ skip ``(B, C_level / 2, 2h, 2w)``) -> ``(B, C_below, 2h, 2w)``; the
        relu1_1 block maps ``(B, 64, H, W)`` to unbounded RGB ``(B, 3, H, W)``.
    """

    def __init__(self, level: str) -> None:
        super().__init__()
        if level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}; got {level!r}")
        self.level = level
        width = _WIDTH[level]
        if level == "relu1_1":
            self.first = nn.Conv2d(width, 3, 3, padding=1)
            self.rest = nn.Sequential()
            return
        self.first = nn.Conv2d(width, width, 3, padding=1)
        below = width // 2
        tail: list[nn.Module] = [nn.Conv2d(width, below, 3, padding=1), nn.ReLU()]
        if level == "relu4_1":
            tail += [
                nn.Conv2d(below, below, 3, padding=1),
                nn.ReLU(),
                nn.Conv2d(below, below, 3, padding=1),
                nn.ReLU(),
            ]
        self.rest = nn.Sequential(*tail)

    def forward(self, x: Tensor, skip: Tensor | None = None) -> Tensor:
        """Decode ``x``; ``skip`` is the normalised content skip (required except for relu1_1)."""
        if self.level == "relu1_1":
            return self.first(x)
        if skip is None:
            raise ValueError(f"decoder block {self.level} needs the content skip {SKIP_OF[self.level]}")
        x = F.relu(self.first(x))
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        x = x + torch.cat([skip, skip], dim=1)
        return self.rest(x)


class IFTNet(nn.Module):
    """Encoder, four decoder blocks, channel scales and the multi-level IFT pipeline.

    Args:
        encoder_weights: VGG-19 weights registry name (``None``: random init, for tests).
        encoder_padding: ``"reflect"`` (reference encoder) or ``"zero"`` (Caffe's own padding).
        feature_norm: ``"mean_activation"`` (divide by the fitted per-channel mean activation, i.e.
            vgg_normalised units) or ``"none"`` (raw encoder features).
    """

    #: Image sides must be multiples of this (three max-pools).
    multiple_of = 8

    def __init__(
        self,
        encoder_weights: str | None = "vgg19_caffe_q8",
        encoder_padding: Literal["reflect", "zero"] = "reflect",
        feature_norm: FeatureNorm = "mean_activation",
    ) -> None:
        super().__init__()
        if feature_norm not in ("mean_activation", "none"):
            raise ValueError(f"feature_norm must be 'mean_activation' or 'none'; got {feature_norm!r}")
        self.encoder = VGGEncoder(
            "vgg19", weights=encoder_weights, last_tap="relu4_1", padding=encoder_padding, ceil_mode=True
        )
        self.decoder = nn.ModuleDict({level: DecoderBlock(level) for level in LEVELS})
        self.feature_norm = feature_norm
        for level in LEVELS:
            self.register_buffer(f"scale_{level}", torch.ones(_WIDTH[level]))
        self.register_buffer("calibration_images", torch.zeros(()))
        self._warned_uncalibrated = False

    # ------------------------------------------------------------------ encoder / decoder
    def encode_step(self, h: Tensor, level: str) -> tuple[Tensor, Tensor | None]:
        """One encoder step into ``level`` from the previous level's feature (RGB for relu1_1).

        Returns:
            ``(feature, skip)``; the skip is the raw pre-pool activation (None for relu1_1).
        """
        if level == "relu1_1":
            return self.encoder(h, ["relu1_1"])["relu1_1"], None
        previous = LEVELS[LEVELS.index(level) - 1]
        out = self.encoder.forward_range(h, previous, [SKIP_OF[level], level])
        return out[level], out[SKIP_OF[level]]

    def encode(self, image: Tensor, upto: str = "relu4_1") -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """Features ``{level: (B, C, h, w)}`` up to ``upto`` and the normalised skips (keyed by level)."""
        feats: dict[str, Tensor] = {}
        skips: dict[str, Tensor] = {}
        h = image
        for level in LEVELS[: LEVELS.index(upto) + 1]:
            h, skip = self.encode_step(h, level)
            feats[level] = h
            if skip is not None:
                skips[level] = instance_normalize(skip, eps=_SKIP_EPS, unbiased=False)
        return feats, skips

    def decode(self, feat: Tensor, level: str, skips: Mapping[str, Tensor]) -> Tensor:
        """Decode a ``level`` feature (channel-scale units) through blocks ``level .. relu1_1`` to RGB."""
        x = feat
        for lv in reversed(LEVELS[: LEVELS.index(level) + 1]):
            x = self.decoder[lv](x, skips.get(lv))
        return x

    # ------------------------------------------------------------------ channel scales
    @property
    def calibrated(self) -> bool:
        """Whether the channel scales were fitted on at least one image."""
        return bool(self.calibration_images.item() > 0)

    @torch.no_grad()
    def update_calibration(self, feats: Mapping[str, Tensor]) -> None:
        """Fold a batch's per-image, per-channel mean activations into the running means.

        Args:
            feats: ``{level: (B, C, h, w)}`` encoder features (any subset of the levels with one batch).
        """
        batch = next(iter(feats.values())).shape[0]
        count = float(self.calibration_images.item())
        for level, feat in feats.items():
            buffer = getattr(self, f"scale_{level}")
            mean = feat.detach().float().mean(dim=(2, 3)).sum(dim=0)
            new = mean if count == 0 else buffer * count + mean
            buffer.copy_(new / (count + batch))
        self.calibration_images.add_(batch)

    @torch.no_grad()
    def calibrate(self, images: Iterable[Tensor]) -> None:
        """Fit the channel scales on images ``(B, 3, H, W)`` RGB [0, 1] (replaces the current fit)."""
        self.calibration_images.zero_()
        for image in images:
            self.update_calibration(self.encode(image)[0])

    def level_scale(self, level: str, *feats: Tensor, warn: bool = True) -> Tensor:
        """``(C,)`` divisor of ``level``'s raw features (ones for ``feature_norm="none"``).

        An uncalibrated model falls back to the mean activation of the given raw features (with a
        warning). Channels whose mean activation is below 1e-3 of the median are floored there.
        """
        if self.feature_norm == "none":
            return torch.ones(_WIDTH[level], device=feats[0].device, dtype=feats[0].dtype)
        if self.calibrated:
            scale = getattr(self, f"scale_{level}")
        else:
            if warn and not self._warned_uncalibrated:
                warnings.warn(
                    "IFT channel scales are not fitted (no training, no calibrate()); using the mean "
                    "activations of the images at hand",
                    stacklevel=3,
                )
                self._warned_uncalibrated = True
            scale = torch.stack([f.detach().mean(dim=(0, 2, 3)) for f in feats]).mean(dim=0)
        floor = (scale.median() * 1e-3).clamp_min(1e-12)
        return scale.clamp_min(floor).to(feats[0].dtype)

    def scales_for(self, *feature_dicts: Mapping[str, Tensor], warn: bool = True) -> dict[str, Tensor]:
        """``{level: (1, C, 1, 1)}`` divisors for every level present in the (raw) feature dicts."""
        levels = [lv for lv in LEVELS if any(lv in d for d in feature_dicts)]
        return {
            lv: self.level_scale(lv, *(d[lv] for d in feature_dicts if lv in d), warn=warn).view(1, -1, 1, 1)
            for lv in levels
        }

    # ------------------------------------------------------------------ training loss
    def ae_losses(
        self, image: Tensor, level: str, reduction: Literal["sum", "mean"] = "sum", intermediate: bool = False
    ) -> dict[str, Tensor]:
        """Supplement Eq. 28 for the autoencoder of ``level``.

        ``L_AE = ||psi(phi(I)) - I||^2 + ||phi(psi(phi(I))) - phi(I)||^2`` with ``phi`` the encoder up to
        ``level`` (in channel-scale units, the decoder's input space) and ``psi`` the decoder blocks
        ``level .. relu1_1`` (skips from ``I``). ``reduction="sum"`` sums each image's squares and
        averages over the batch (the Frobenius norms of the paper); ``"mean"`` averages every element.

        Args:
            image: ``(B, 3, H, W)`` RGB [0, 1], sides multiples of 8.
            level: Which autoencoder.
            reduction: See above.
            intermediate: Also return ``||D_level(phi(I)) - phi_below(I)||^2`` (reproduction of the
                level below; [proposal], not in the paper).

        Returns:
            ``{"pixel", "feature"}`` (+ ``"intermediate"``) scalars.
        """
        feats, skips = self.encode(image, upto=level)
        scales = self.scales_for(feats, warn=False)
        target = feats[level] / scales[level]
        output = self.decode(target, level, skips)
        reproduced = self.encode(output, upto=level)[0][level] / scales[level]

        def reduce(x: Tensor) -> Tensor:
            return x.pow(2).sum() / x.shape[0] if reduction == "sum" else x.pow(2).mean()

        terms = {"pixel": reduce(output - image), "feature": reduce(reproduced - target)}
        if intermediate and level != "relu1_1":
            below = LEVELS[LEVELS.index(level) - 1]
            mid = self.decoder[level](target, skips[level])
            terms["intermediate"] = reduce(mid - feats[below] / scales[below])
        return terms

    # ------------------------------------------------------------------ stylization
    def transform_level(
        self,
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
        """Transform one level's feature ``(B, C, h, w)`` (``feat``, ``style_feats``: channel-scale units).

        See :func:`stylelab.methods.ift.transform.transform_feature` (IFT, or the reference's ``zca`` /
        ``adain`` linear-blending comparisons).
        """
        return transform_feature(
            level,
            feat,
            style_feats,
            weights,
            setting,
            step=step,
            step_rule=step_rule,
            n_iter=n_iter,
            transform=transform,
            alpha=alpha,
            content_mask=content_mask,
            style_masks=style_masks,
            labels=labels,
            unmatched=unmatched,
            on_divergence=on_divergence,
        )

    def stylize(
        self,
        content: Tensor,
        styles: Sequence[Tensor],
        weights: Sequence[float] | None = None,
        *,
        levels: Mapping[str, LevelSetting],
        pipeline: Pipeline = "coarse_to_fine",
        step: float = 0.01,
        step_rule: StepRule = "fixed",
        n_iter: int = 1,
        transform: Transform = "ift",
        alpha: float = 1.0,
        content_mask: Tensor | None = None,
        style_masks: Sequence[Tensor] | None = None,
        unmatched: Unmatched = "keep",
        on_divergence: OnDivergence = "line_search",
    ) -> Tensor:
        """Multi-level IFT of ``content`` towards ``styles``.

        Args:
            content: ``(B, 3, H, W)`` RGB [0, 1]; ``H`` and ``W`` multiples of 8.
            styles: Style images ``(B|1, 3, H_k, W_k)``.
            weights: One weight per style (default ``1/q``).
            levels: ``{level: LevelSetting}`` for the transformed levels (see :mod:`.presets`).
            pipeline: ``"coarse_to_fine"`` or ``"fine_to_coarse"``.
            step: Fixed step.
            step_rule: ``"fixed"`` or ``"line_search"``.
            n_iter: Outer rounds per level.
            transform: ``"ift"``, or the comparisons ``"zca"`` / ``"adain"``.
            alpha: Blend of the comparison transforms (ignored by IFT, as in the reference).
            content_mask: ``(B, H, W)`` or ``(H, W)`` integer labels of the content image.
            style_masks: One ``(B|1, H_k, W_k)`` / ``(H_k, W_k)`` label map per style.
            unmatched: ``"keep"`` or ``"global"`` for positions without a matched label.
            on_divergence: ``"line_search"`` (redo a diverging fixed-step level with the line search,
                with a warning), ``"raise"``, or ``"ignore"`` (keep what the fixed steps give, as the
                reference code does; non-finite features still raise).

        Returns:
            ``(B, 3, H, W)`` unbounded RGB.

        Raises:
            ValueError: Bad pipeline, weights, or masks that do not fit their images.
        """
        if pipeline not in PIPELINES:
            raise ValueError(f"pipeline must be one of {sorted(PIPELINES)}; got {pipeline!r}")
        styles = list(styles)
        values, _ = normalize_style_weights(weights, len(styles))
        masks = prepare_masks(content, styles, content_mask, style_masks)
        labels = matched_labels(masks, content.shape[0])
        enc_levels, dec_levels = PIPELINES[pipeline]
        style_raw = [self.encode(s)[0] for s in styles]
        content_raw, skips = self.encode(content)
        scales = self.scales_for(content_raw, *style_raw)
        style_feats = [{lv: f[lv] / scales[lv] for lv in LEVELS} for f in style_raw]
        options = {
            "step": step,
            "step_rule": step_rule,
            "n_iter": n_iter,
            "transform": transform,
            "alpha": alpha,
            "content_mask": None if masks is None else masks[0],
            "style_masks": None if masks is None else masks[1],
            "labels": labels,
            "unmatched": unmatched,
            "on_divergence": on_divergence,
        }

        def run(level: str, feat: Tensor) -> Tensor:
            if level not in levels or levels[level].n_upd == 0 and transform == "ift":
                return feat
            sf = [f[level] for f in style_feats]
            return self.transform_level(level, feat, sf, values, levels[level], **options)  # type: ignore[arg-type]

        if enc_levels == (LEVELS[-1],):
            h = (
                content_raw[LEVELS[-1]] / scales[LEVELS[-1]]
            )  # no encoder-side transform before the bottleneck
            x = run(LEVELS[-1], h)
        else:
            skips = {}
            h = content
            for level in LEVELS:
                h, skip = self.encode_step(h, level)
                if skip is not None:
                    skips[level] = instance_normalize(skip, eps=_SKIP_EPS, unbiased=False)
                x = h / scales[level]
                if level in enc_levels:
                    x = run(level, x)
                    h = x * scales[level]
        for level in reversed(LEVELS):
            x = self.decoder[level](x, skips.get(level))
            below = LEVELS[LEVELS.index(level) - 1] if level != "relu1_1" else None
            if below is not None and below in dec_levels:
                x = run(below, x)
        return x
