r"""Content loss as an evaluation metric: feature MSE, centred sum of squares, normalised MSE.

The definitions are those of :mod:`stylelab.losses.content`; this module adds the encoder, the functional
twin and the torchmetrics class. Output and content image must have the same size.

=============  ==================  ====================================================================
variant        default layers      source
=============  ==================  ====================================================================
mse            relu4_1             feature reconstruction loss (Johnson; StyleBank uses relu4_2/VGG-16)
centered_sum   relu4_1             PCA-KD evaluation: ``||Fbar_c - Fbar_t||^2``, a sum, not a mean
normalized     relu4_1+relu5_1     SANet (and IEC, SK): MSE of instance-normalised features
=============  ==================  ====================================================================

Default encoder: the Caffe VGG-19 (``"vgg19_caffe_q8"``). The ``normalized`` variant is invariant to a
positive per-channel rescaling of the features, so it matches SANet's "normalised VGG-19" value up to
``eps``; the other two are not (and PCA-KD's teacher is the normalised VGG-19: compare orderings).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from torch import Tensor

from stylelab.losses.content import centered_sum_content_loss, feature_mse_loss, normalized_content_loss
from stylelab.losses.reduction import Reduction
from stylelab.metrics._format import format_eps, format_layers
from stylelab.metrics.base import MeanOfValues
from stylelab.metrics.encoder import EncoderSlot, FeatureEncoder

ContentVariant = Literal["mse", "centered_sum", "normalized"]

DEFAULT_CONTENT_LAYERS: dict[str, tuple[str, ...]] = {
    "mse": ("relu4_1",),
    "centered_sum": ("relu4_1",),
    "normalized": ("relu4_1", "relu5_1"),
}
DEFAULT_WEIGHTS = "vgg19_caffe_q8"


def _check_variant(variant: str) -> None:
    if variant not in DEFAULT_CONTENT_LAYERS:
        raise ValueError(
            f"content loss variant must be one of {sorted(DEFAULT_CONTENT_LAYERS)}; got {variant!r}"
        )


def _check_images(output: Tensor, content: Tensor) -> None:
    for name, x in (("output", output), ("content", content)):
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"{name} must be RGB images (B, 3, H, W) in [0, 1]; got shape {tuple(x.shape)}")
    if output.shape != content.shape:
        raise ValueError(
            f"output and content must have the same shape (the loss compares positions); got "
            f"{tuple(output.shape)} and {tuple(content.shape)}"
        )


def content_loss_from_features(
    output_feats: dict[str, Tensor],
    content_feats: dict[str, Tensor],
    variant: ContentVariant,
    layers: Sequence[str],
    eps: float = 1e-5,
    unbiased: bool = True,
    reduction: Reduction = "mean",
) -> Tensor:
    """Dispatch to the feature-level loss of ``variant`` (see :mod:`stylelab.losses.content`)."""
    _check_variant(variant)
    if variant == "mse":
        return feature_mse_loss(output_feats, content_feats, layers, reduction=reduction)
    if variant == "centered_sum":
        return centered_sum_content_loss(output_feats, content_feats, layers, reduction=reduction)
    return normalized_content_loss(
        output_feats, content_feats, layers, eps=eps, unbiased=unbiased, reduction=reduction
    )


def content_loss(
    output: Tensor,
    content: Tensor,
    variant: ContentVariant = "mse",
    layers: Sequence[str] | None = None,
    encoder: FeatureEncoder | None = None,
    weights: str = DEFAULT_WEIGHTS,
    eps: float = 1e-5,
    unbiased: bool = True,
    reduction: Reduction = "mean",
) -> Tensor:
    r"""Content loss between stylised outputs and content images (functional twin of :class:`ContentLoss`).

    Per sample (``F_l`` = encoder features at layer ``l``, ``o`` output, ``c`` content):

    * ``"mse"``: ``sum_l mean (F_l^o - F_l^c)^2``.
    * ``"centered_sum"``: ``sum_l sum (Fbar_l^c - Fbar_l^o)^2``, ``Fbar = F - spatial mean``.
    * ``"normalized"``: ``sum_l mean (IN(F_l^o) - IN(F_l^c))^2``, ``IN(F) = (F - mu) / sqrt(var + eps)``.

    Args:
        output: Stylised images ``(B, 3, H, W)``, RGB in ``[0, 1]``.
        content: Content images, same shape.
        variant: ``"mse"``, ``"centered_sum"`` or ``"normalized"``.
        layers: Encoder taps; ``None`` uses the variant's default (module docstring).
        encoder: ``encoder(images, taps) -> {tap: features}``; ``None`` builds (once, cached) a frozen
            VGG-19 with ``weights``.
        weights: Registry weights of the default encoder.
        eps: Variance epsilon (``"normalized"`` only).
        unbiased: Variance divisor ``N - 1`` (``"normalized"`` only; SANet's choice).
        reduction: ``"none"`` (per-sample ``(B,)``), ``"mean"`` or ``"sum"``.

    Returns:
        ``(B,)`` or a scalar.

    Raises:
        ValueError: Unknown variant/layers, or images of different or non-RGB shapes.
    """
    _check_variant(variant)
    _check_images(output, content)
    layers = list(layers) if layers is not None else list(DEFAULT_CONTENT_LAYERS[variant])
    slot = EncoderSlot(encoder, weights, layers)
    return content_loss_from_features(
        slot.encode(output), slot.encode(content), variant, layers, eps, unbiased, reduction
    )


class ContentLoss(MeanOfValues):
    """Mean content loss over all (output, content) pairs seen; see :func:`content_loss` for formulas.

    Args:
        variant: ``"mse"``, ``"centered_sum"`` or ``"normalized"``.
        layers: Encoder taps; ``None`` uses the variant's default.
        encoder: Injected encoder; ``None`` builds the default VGG-19 lazily on the first update.
        weights: Registry weights of the default encoder.
        encoder_name: Label of the encoder in :attr:`variant`.
        eps: Variance epsilon (``"normalized"`` only).
        unbiased: Variance divisor ``N - 1`` (``"normalized"`` only).
        kwargs: torchmetrics ``Metric`` options.
    """

    higher_is_better = False

    def __init__(
        self,
        variant: ContentVariant = "mse",
        layers: Sequence[str] | None = None,
        encoder: FeatureEncoder | None = None,
        weights: str = DEFAULT_WEIGHTS,
        encoder_name: str | None = None,
        eps: float = 1e-5,
        unbiased: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        _check_variant(variant)
        self.content_variant: ContentVariant = variant
        self.layers = list(layers) if layers is not None else list(DEFAULT_CONTENT_LAYERS[variant])
        self.eps = eps
        self.unbiased = unbiased
        self._slot = EncoderSlot(encoder, weights, self.layers, encoder_name)

    def update(self, output: Tensor, content: Tensor) -> None:
        """Add a batch: ``output`` and ``content`` ``(B, 3, H, W)``, RGB ``[0, 1]``."""
        _check_images(output, content)
        values = content_loss_from_features(
            self._slot.encode(output),
            self._slot.encode(content),
            self.content_variant,
            self.layers,
            self.eps,
            self.unbiased,
            reduction="none",
        )
        self._accumulate(values)

    @property
    def variant(self) -> str:
        """E.g. ``"content loss: feature MSE, layers relu4_1, Caffe VGG-19 q8"``."""
        if self.content_variant == "mse":
            what = "feature MSE"
        elif self.content_variant == "centered_sum":
            what = "centred features, sum of squares"
        else:
            var = "unbiased" if self.unbiased else "biased"
            what = f"MSE of instance-normalised features ({var} var + {format_eps(self.eps)})"
        return f"content loss: {what}, layers {format_layers(self.layers)}, {self._slot.name}"
