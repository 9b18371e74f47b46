r"""StyleBank's losses on a frozen loss VGG, with the style Grams of the fixed style set cached once.

* identity (auto-encoder branch, Eq. 2): ``L_I = mean (O − I)^2``;
* stylising branch (Eq. 3-4): ``L_K = α L_c + β L_s + γ L_tv`` with, per sample,
  ``L_c = Σ_{l ∈ {relu4_2}} mean (F_l(O) − F_l(I))^2``,
  ``L_s = Σ_{l ∈ {relu1_2, relu2_2, relu3_2, relu4_2}} mean_ij (G(F_l(O)) − G_l^{(y)})_ij^2`` where
  ``G = F F^T / (C N)`` of one sample (never the batch folded into the rows) and ``G_l^{(y)}`` is the
  cached Gram of the sample's style ``y``, and ``L_tv`` the anisotropic total variation (sum of
  absolute neighbour differences, as in the ports), averaged over the batch.

The paper's loss network is ImageNet VGG-16; ``loss_network="auto"`` uses torchvision's VGG-16
(``vgg16_torchvision``) when its weights resolve and otherwise the Caffe VGG-19 (``vgg19_caffe_q8``),
and :attr:`StyleBankCriterion.description` says which one ran.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from stylelab.backbones import VGGEncoder, WeightsNotFoundError
from stylelab.losses import feature_mse_loss
from stylelab.ops import gram_matrix, total_variation

CONTENT_LAYERS = ("relu4_2",)
STYLE_LAYERS = ("relu1_2", "relu2_2", "relu3_2", "relu4_2")

_DESCRIPTIONS = {
    "vgg16_torchvision": "VGG-16 (torchvision ImageNet, vgg16_torchvision)",
    "vgg19_caffe_q8": "VGG-19 (Caffe ImageNet, 8-bit quantised, vgg19_caffe_q8)",
    "vgg19_torchvision": "VGG-19 (torchvision ImageNet, vgg19_torchvision)",
}


def build_loss_network(weights: str | None, last_tap: str) -> tuple[VGGEncoder, str, str]:
    """The frozen VGG of the perceptual losses.

    Args:
        weights: ``"auto"`` (VGG-16 if ``vgg16_torchvision`` resolves, else the Caffe VGG-19), a
            registry name (``"vgg16_torchvision"``, ``"vgg19_caffe_q8"``, ``"vgg19_torchvision"``) or
            ``None`` (random VGG-16, tests only).
        last_tap: Deepest tap needed.

    Returns:
        ``(encoder, weights name or "random", one-line description)``.
    """
    if weights == "auto":
        try:
            return (
                VGGEncoder("vgg16", "vgg16_torchvision", last_tap),
                "vgg16_torchvision",
                _DESCRIPTIONS["vgg16_torchvision"],
            )
        except WeightsNotFoundError as error:
            warnings.warn(
                "StyleBank: the paper's VGG-16 loss network (vgg16_torchvision) was not found, using the "
                f"Caffe VGG-19 (vgg19_caffe_q8) instead.\n{error}",
                stacklevel=2,
            )
            return (
                VGGEncoder("vgg19", "vgg19_caffe_q8", last_tap),
                "vgg19_caffe_q8",
                _DESCRIPTIONS["vgg19_caffe_q8"] + " [fallback: VGG-16 weights not found]",
            )
    if weights is None:
        return VGGEncoder("vgg16", None, last_tap), "random", "VGG-16 (random weights; tests only)"
    arch = "vgg16" if weights.startswith("vgg16") else "vgg19"
    return VGGEncoder(arch, weights, last_tap), weights, _DESCRIPTIONS.get(weights, weights)  # type: ignore[arg-type]


def _deepest(layers: Sequence[str]) -> str:
    def rank(name: str) -> tuple[int, int]:
        block, index = name.removeprefix("relu").split("_")
        return int(block), int(index)

    return max(layers, key=rank)


class StyleBankCriterion(nn.Module):
    """Perceptual losses of the stylising branch and the identity loss, with cached style Grams.

    Args:
        loss_network: See :func:`build_loss_network`.
        content_layers: Taps of ``L_c`` (paper: relu4_2).
        style_layers: Taps of ``L_s`` (paper: relu1_2, relu2_2, relu3_2, relu4_2).
    """

    def __init__(
        self,
        loss_network: str | None = "auto",
        content_layers: Sequence[str] = CONTENT_LAYERS,
        style_layers: Sequence[str] = STYLE_LAYERS,
    ) -> None:
        super().__init__()
        self.content_layers, self.style_layers = tuple(content_layers), tuple(style_layers)
        if not self.content_layers or not self.style_layers:
            raise ValueError("content_layers and style_layers must each name at least one tap")
        last = _deepest(self.content_layers + self.style_layers)
        self.vgg, self.weights_name, self.description = build_loss_network(loss_network, last)
        self.arch = self.vgg.arch
        self._grams: dict[str, Tensor] = {}
        self.num_cached = 0
        self.style_encodings = 0  # how many style images went through the VGG (caching check)

    # ------------------------------------------------------------------ style Gram cache
    @torch.no_grad()
    def style_grams(self, image: Tensor) -> dict[str, Tensor]:
        """Per-layer Grams ``{tap: (C, C)}`` of one style image ``(3, H, W)`` RGB [0, 1]."""
        self.style_encodings += 1
        feats = self.vgg(image[None].to(self._device()), self.style_layers)
        return {layer: gram_matrix(feats[layer])[0] for layer in self.style_layers}

    def cache_styles(self, images: Sequence[Tensor]) -> None:
        """Compute and keep the Grams of the fixed style set (row ``i`` = style ``i``), once.

        Args:
            images: ``(3, H_i, W_i)`` RGB [0, 1] style images, in style-index order.
        """
        if not images:
            raise ValueError("the style set is empty")
        per_style = [self.style_grams(image) for image in images]
        self._grams = {layer: torch.stack([g[layer] for g in per_style]) for layer in self.style_layers}
        self.num_cached = len(images)

    def cached_grams(self, style_index: Tensor) -> dict[str, Tensor]:
        """``{tap: (B, C, C)}`` cached Grams of each sample's style (indices into the cached set)."""
        if not self._grams:
            raise RuntimeError("style Grams are not cached yet: call cache_styles() with the style set first")
        index = style_index.to(self._grams[self.style_layers[0]].device)
        return {layer: grams[index] for layer, grams in self._grams.items()}

    def _device(self) -> torch.device:
        return self.vgg._scale.device

    def _apply(self, fn, recurse: bool = True):  # noqa: ANN001, ANN202 - nn.Module signature
        """Move the cached Grams together with the VGG (``.to``, ``.cuda``, ``.double`` ...)."""
        super()._apply(fn, recurse)
        self._grams = {layer: fn(grams) for layer, grams in self._grams.items()}
        return self

    # ------------------------------------------------------------------ losses
    def stylizing_terms(self, output: Tensor, content: Tensor, style_index: Tensor) -> dict[str, Tensor]:
        """Per-batch-mean content, style and TV terms of ``L_K`` (unweighted).

        Args:
            output: ``(B, 3, H, W)`` stylised images (unclamped).
            content: ``(B, 3, H, W)`` content images.
            style_index: ``(B,)`` row of each sample's style in the cached set.

        Returns:
            ``{"content", "style", "tv"}`` scalars.
        """
        per_sample = self.per_sample_terms(output, content, style_index)
        return {name: value.mean() for name, value in per_sample.items()}

    def per_sample_terms(self, output: Tensor, content: Tensor, style_index: Tensor) -> dict[str, Tensor]:
        """Like :meth:`stylizing_terms` but ``(B,)`` per sample (each sample sees only its own Gram)."""
        taps = sorted(set(self.content_layers + self.style_layers))
        out_feats = self.vgg(output, taps)
        with torch.no_grad():
            content_feats = self.vgg(content, self.content_layers)
        content_loss = feature_mse_loss(out_feats, content_feats, self.content_layers, reduction="none")
        targets = self.cached_grams(style_index)
        style_loss = output.new_zeros(output.shape[0])
        for layer in self.style_layers:
            diff = gram_matrix(out_feats[layer]) - targets[layer]
            style_loss = style_loss + diff.pow(2).mean(dim=(1, 2))
        return {"content": content_loss, "style": style_loss, "tv": total_variation(output, reduction="sum")}

    def style_loss_to_images(self, output: Tensor, style: Tensor) -> Tensor:
        """Batch-mean Gram style loss of ``output`` against style *images* (evaluation; no cache)."""
        from stylelab.losses import gram_style_loss

        out_feats = self.vgg(output, self.style_layers)
        style_feats = self.vgg(style, self.style_layers)
        return gram_style_loss(out_feats, style_feats, self.style_layers)

    def content_loss(self, output: Tensor, content: Tensor) -> Tensor:
        """Batch-mean ``L_c``."""
        return feature_mse_loss(self.vgg(output, self.content_layers), self.vgg(content, self.content_layers),
                                self.content_layers)  # fmt: skip

    @staticmethod
    def identity(output: Tensor, content: Tensor) -> Tensor:
        """``L_I = mean (O − I)^2`` (Eq. 2)."""
        return F.mse_loss(output, content)
