"""StyleBank at inference: choosing banks (index, name, style image) and stylising with one bank or a fusion.

:class:`StyleBankInference` is a mixin of :class:`~stylelab.methods.stylebank.module.StyleBank`; it needs
the module's ``net`` (:class:`StyleBankNet`), ``style_names`` and ``style_thumbnails`` buffer.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from stylelab.methods.stylebank.model import DOWNSCALE, StyleBankNet
from stylelab.methods.stylebank.regions import kmeans_regions, labels_to_masks

THUMBNAIL = 16
"""Side of the style thumbnails kept per bank to recognise a style image at inference."""


def thumbnail(images: Tensor) -> Tensor:
    """``(B, 3, H, W)`` → ``(B, 3, 16, 16)`` antialiased thumbnails (aspect ignored)."""
    return F.interpolate(
        images, size=(THUMBNAIL, THUMBNAIL), mode="bilinear", antialias=True, align_corners=False
    )


class StyleBankInference:
    """Bank selection and stylisation (single bank, linear fusion Eq. 5, region fusion Eq. 6).

    Attributes:
        net: The network (encoder, banks, decoder).
        style_names: Name of each bank (the style-source key of its training image).
        style_thumbnails: ``(n, 3, 16, 16)`` thumbnail of each bank's training image.
    """

    net: StyleBankNet
    style_names: list[str]
    style_thumbnails: Tensor

    def match_styles(self, style: Tensor) -> list[int]:
        """Bank of each style image: the one whose 16×16 thumbnail is nearest (exact for the style set).

        Args:
            style: ``(B, 3, H, W)`` RGB [0, 1].

        Returns:
            One bank index per image.
        """
        if self.net.num_styles == 0:
            raise RuntimeError("this StyleBank has no style yet: train it first")
        thumbs = thumbnail(style.to(self.style_thumbnails)).flatten(1)
        distance = torch.cdist(thumbs, self.style_thumbnails.flatten(1))
        return [int(i) for i in distance.argmin(1)]

    def resolve_style(self, style: int | str) -> int:
        """Bank index of a style given by index (``3``, ``"3"``) or by name (exact, or file stem)."""
        if isinstance(style, int) or (isinstance(style, str) and style.lstrip("-").isdigit()):
            return self.net.bank.check_index(int(style))
        names = self.style_names
        if style in names:
            return names.index(style)
        stems = [Path(n).stem for n in names]
        if style in stems:
            return stems.index(style)
        raise KeyError(f"unknown style {style!r}; this StyleBank has: {', '.join(names)}")

    def region_masks(self, feature: Tensor, count: int, regions: str | Tensor, seed: int = 0) -> Tensor:
        """``(B, count, h, w)`` region masks at feature resolution.

        Args:
            feature: ``(B, C, h, w)`` encoder features.
            count: Number of styles (regions).
            regions: ``"kmeans"`` (paper Fig. 4: K-means on L2-normalised features) or a label map
                ``(B or 1, H', W')`` (integers; nearest-resized), or soft masks ``(B or 1, count, H', W')``
                (floats; area-resized and renormalised).
            seed: K-means seed.
        """
        size = tuple(feature.shape[-2:])
        if isinstance(regions, str):
            if regions != "kmeans":
                raise ValueError(f"regions must be 'kmeans', a label map or masks; got {regions!r}")
            labels = torch.stack([kmeans_regions(f, count, seed=seed) for f in feature])
            return labels_to_masks(labels, count).to(feature)
        if regions.is_floating_point():
            if regions.dim() != 4 or regions.shape[1] != count:
                raise ValueError(f"soft region masks must be (B, {count}, H, W), got {tuple(regions.shape)}")
            masks = (
                F.adaptive_avg_pool2d(regions.to(feature), size) if regions.shape[-2:] != size else regions
            )
            return masks / masks.sum(1, keepdim=True).clamp_min(1e-8)
        return labels_to_masks(regions.to(feature.device), count, size).to(feature)  # type: ignore[arg-type]

    def stylize(
        self,
        content: Tensor,
        style: Tensor | None = None,
        styles: Sequence[int | str] | None = None,
        weights: Sequence[float] | None = None,
        regions: str | Tensor | None = None,
        kmeans_seed: int = 0,
        **options: Any,
    ) -> Tensor:
        """Stylize RGB [0, 1] ``(B, 3, H, W)`` content (any size) with one style, a linear fusion or regions.

        Args:
            content: ``(B, 3, H, W)``.
            style: Style image(s) ``(B or 1, 3, H_s, W_s)``: each selects the bank of the style-set image
                it matches (see :meth:`match_styles`). Ignored when ``styles`` is given.
            styles: Banks by index or name. One style: that bank. Several: with ``weights`` a linear
                fusion (Eq. 5), with ``regions`` a region fusion (Eq. 6).
            weights: Linear fusion weights, one per style, summing to 1.
            regions: ``"kmeans"``, a label map ``(B or 1, H, W)`` aligned with ``content`` or soft masks
                ``(B or 1, m, H, W)``; see :meth:`region_masks`.
            kmeans_seed: Seed of the K-means regions.

        Returns:
            ``(B, 3, H, W)`` in [0, 1].
        """
        if options:
            raise TypeError(f"StyleBank.stylize got unknown options {sorted(options)}")
        padded, (h, w) = StyleBankNet.pad_to_multiple(content, DOWNSCALE)
        with torch.no_grad():
            if styles is None:
                if style is None:
                    raise ValueError("give a style image or styles= (bank indices or names)")
                out = self.net(padded, self.match_styles(style))
            else:
                indices = [self.resolve_style(s) for s in styles]
                if weights is not None and regions is not None:
                    raise ValueError(
                        "give either weights= (linear fusion) or regions= (region fusion), not both"
                    )
                if weights is not None:
                    out = self.net.stylize_linear(padded, indices, weights)
                elif regions is not None:
                    feature = self.net.encoder(padded)
                    if isinstance(regions, Tensor):
                        regions = _pad_regions(regions, padded.shape[-2:])
                    masks = self.region_masks(feature, len(indices), regions, seed=kmeans_seed)
                    out = self.net.decoder(self.net.bank.region_fusion(feature, indices, masks))
                elif len(indices) == 1:
                    out = self.net(padded, indices[0])
                else:
                    raise ValueError(
                        f"{len(indices)} styles: give weights= (linear fusion) or regions= (region fusion)"
                    )
        return out[..., :h, :w].clamp(0, 1)


def _pad_regions(regions: Tensor, size: Sequence[int]) -> Tensor:
    """Pad a label map ``(B, H, W)`` or soft masks ``(B, m, H, W)`` to the padded content ``size``.

    Bottom/right edge replication, like :meth:`StyleBankNet.pad_to_multiple` pads the content.
    """
    h, w = regions.shape[-2:]
    ph, pw = size[0] - h, size[1] - w
    if ph < 0 or pw < 0:
        raise ValueError(f"region masks are {h}x{w} but the content is smaller ({size[0]}x{size[1]} padded)")
    if ph == 0 and pw == 0:
        return regions
    if regions.is_floating_point():
        return F.pad(regions, (0, pw, 0, ph), mode="replicate")
    return F.pad(regions[:, None].double(), (0, pw, 0, ph), mode="replicate")[:, 0].round().long()


__all__ = ["THUMBNAIL", "StyleBankInference", "thumbnail"]
