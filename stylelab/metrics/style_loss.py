r"""Style loss as an evaluation metric: Gram, covariance or mean/std statistics of encoder features.

The definitions are those of :mod:`stylelab.losses.style`; this module adds the encoder, the functional
twin and the torchmetrics class. Default layers depend on the variant (each follows its source):

===========  ======================  =========================================================
variant      default layers          source
===========  ======================  =========================================================
gram         relu1_1..relu4_1        SK's L_sty [proposal, spec 3.3]; Johnson-style C*N Gram
covariance   relu1_1..relu4_1        PCA-KD evaluation (N = 1..4), Cov = Fbar Fbar^T / N
mean_std     relu1_1..relu5_1        SANet/IEC/AdaAttN "style loss" metric line (spec 3.8.6)
===========  ======================  =========================================================

The default encoder is the Caffe VGG-19 (8-bit quantised, ``"vgg19_caffe_q8"``), the only full VGG-19
available offline; the SANet line uses the "normalised" VGG-19, whose features differ by a positive
per-channel factor, so mean/std and Gram values are *not* comparable with published numbers in absolute
terms (spec 3.8.6: compare orderings only).

Example::

    metric = StyleLoss("mean_std")            # default encoder built on first update
    metric.update(stylised, style)            # (B, 3, H, W) and (B or 1, 3, H', W'), RGB [0, 1]
    metric.compute()                          # mean over all samples seen
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from torch import Tensor

from stylelab.losses.reduction import Reduction
from stylelab.losses.style import covariance_style_loss, gram_style_loss, mean_std_style_loss
from stylelab.metrics._format import format_eps, format_layers
from stylelab.metrics.base import MeanOfValues
from stylelab.metrics.encoder import EncoderSlot, FeatureEncoder
from stylelab.ops.gram import GramNormalization

StyleVariant = Literal["gram", "covariance", "mean_std"]

DEFAULT_STYLE_LAYERS: dict[str, tuple[str, ...]] = {
    "gram": ("relu1_1", "relu2_1", "relu3_1", "relu4_1"),
    "covariance": ("relu1_1", "relu2_1", "relu3_1", "relu4_1"),
    "mean_std": ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
}
DEFAULT_WEIGHTS = "vgg19_caffe_q8"


def _check_variant(variant: str) -> None:
    if variant not in DEFAULT_STYLE_LAYERS:
        raise ValueError(f"style loss variant must be one of {sorted(DEFAULT_STYLE_LAYERS)}; got {variant!r}")


def _check_images(output: Tensor, style: Tensor) -> None:
    for name, x in (("output", output), ("style", style)):
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"{name} must be RGB images (B, 3, H, W) in [0, 1]; got shape {tuple(x.shape)}")
    if style.shape[0] not in (output.shape[0], 1):
        raise ValueError(
            f"style batch must equal the output batch ({output.shape[0]}) or be 1; got {style.shape[0]}"
        )


def style_loss_from_features(
    output_feats: dict[str, Tensor],
    style_feats: dict[str, Tensor],
    variant: StyleVariant,
    layers: Sequence[str],
    normalize: GramNormalization = "CN",
    eps: float = 1e-5,
    unbiased: bool | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    """Dispatch to the feature-level loss of ``variant`` (see :mod:`stylelab.losses.style`).

    ``unbiased=None`` picks the variant's convention: ``False`` (``/N``) for covariance, ``True``
    (``N - 1``) for mean/std; Gram ignores it.
    """
    _check_variant(variant)
    if variant == "gram":
        return gram_style_loss(output_feats, style_feats, layers, normalize=normalize, reduction=reduction)
    if variant == "covariance":
        return covariance_style_loss(
            output_feats, style_feats, layers, unbiased=bool(unbiased), reduction=reduction
        )
    return mean_std_style_loss(
        output_feats,
        style_feats,
        layers,
        eps=eps,
        unbiased=True if unbiased is None else unbiased,
        reduction=reduction,
    )


def style_loss(
    output: Tensor,
    style: Tensor,
    variant: StyleVariant = "gram",
    layers: Sequence[str] | None = None,
    encoder: FeatureEncoder | None = None,
    weights: str = DEFAULT_WEIGHTS,
    normalize: GramNormalization = "CN",
    eps: float = 1e-5,
    unbiased: bool | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    r"""Style loss between stylised outputs and style images (functional twin of :class:`StyleLoss`).

    Per sample (``F_l`` = encoder features at layer ``l``, ``o`` output, ``s`` style):

    * ``"gram"``: ``sum_l mean_ij (G_l^o - G_l^s)^2``, ``G = F F^T / d`` (``d = C N`` by default).
    * ``"covariance"``: ``sum_l ||Cov(F_l^s) - Cov(F_l^o)||_F^2``, ``Cov = Fbar Fbar^T / N``.
    * ``"mean_std"``: ``sum_l [mean_c (mu^o - mu^s)^2 + mean_c (sigma^o - sigma^s)^2]``,
      ``sigma = sqrt(var + eps)``.

    Differentiable with respect to ``output`` (usable as a training loss).

    Args:
        output: Stylised images ``(B, 3, H, W)``, RGB in ``[0, 1]``.
        style: Style images ``(B, 3, H', W')`` or ``(1, 3, H', W')`` (one style for the batch).
        variant: ``"gram"``, ``"covariance"`` or ``"mean_std"``.
        layers: Encoder taps; ``None`` uses the variant's default (module docstring).
        encoder: ``encoder(images, taps) -> {tap: features}``; ``None`` builds (once, cached) a frozen
            VGG-19 with ``weights``.
        weights: Registry weights of the default encoder.
        normalize: Gram divisor (``"gram"`` only): ``"CN"``, ``"N"`` or ``"none"``.
        eps: Variance epsilon (``"mean_std"`` only).
        unbiased: Variance/covariance divisor ``N - 1``; ``None``: covariance ``/N``, mean/std ``N - 1``.
        reduction: ``"none"`` (per-sample ``(B,)``), ``"mean"`` or ``"sum"``.

    Returns:
        ``(B,)`` or a scalar.

    Raises:
        ValueError: Unknown variant/layers, or images that are not ``(B, 3, H, W)``.
    """
    _check_variant(variant)
    _check_images(output, style)
    layers = list(layers) if layers is not None else list(DEFAULT_STYLE_LAYERS[variant])
    slot = EncoderSlot(encoder, weights, layers)
    return style_loss_from_features(
        slot.encode(output), slot.encode(style), variant, layers, normalize, eps, unbiased, reduction
    )


class StyleLoss(MeanOfValues):
    """Mean style loss over all (output, style) pairs seen; see :func:`style_loss` for the formulas.

    Args:
        variant: ``"gram"``, ``"covariance"`` or ``"mean_std"``.
        layers: Encoder taps; ``None`` uses the variant's default.
        encoder: Injected encoder (e.g. a random-weight one in tests); ``None`` builds the default VGG-19
            lazily on the first update.
        weights: Registry weights of the default encoder.
        encoder_name: Label of the encoder in :attr:`variant` (default: derived from the encoder).
        normalize: Gram divisor (``"gram"`` only).
        eps: Variance epsilon (``"mean_std"`` only).
        unbiased: See :func:`style_loss`.
        kwargs: torchmetrics ``Metric`` options (``sync_on_compute``, ``dist_sync_fn`` ...).

    Example::

        metric = StyleLoss("gram", encoder=my_encoder)
        metric.update(output, style)
        metric.variant  # "style loss: Gram (C·N normalised), MSE, layers relu1_1..relu4_1, MyEncoder"
    """

    higher_is_better = False

    def __init__(
        self,
        variant: StyleVariant = "gram",
        layers: Sequence[str] | None = None,
        encoder: FeatureEncoder | None = None,
        weights: str = DEFAULT_WEIGHTS,
        encoder_name: str | None = None,
        normalize: GramNormalization = "CN",
        eps: float = 1e-5,
        unbiased: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        _check_variant(variant)
        if normalize not in ("none", "N", "CN"):
            raise ValueError(f"normalize must be 'none', 'N' or 'CN'; got {normalize!r}")
        self.style_variant: StyleVariant = variant
        self.layers = list(layers) if layers is not None else list(DEFAULT_STYLE_LAYERS[variant])
        self.normalize: GramNormalization = normalize
        self.eps = eps
        self.unbiased = unbiased
        self._slot = EncoderSlot(encoder, weights, self.layers, encoder_name)

    def update(self, output: Tensor, style: Tensor) -> None:
        """Add a batch: ``output`` ``(B, 3, H, W)``, ``style`` ``(B or 1, 3, H', W')``, RGB ``[0, 1]``."""
        _check_images(output, style)
        values = style_loss_from_features(
            self._slot.encode(output),
            self._slot.encode(style),
            self.style_variant,
            self.layers,
            self.normalize,
            self.eps,
            self.unbiased,
            reduction="none",
        )
        self._accumulate(values)

    @property
    def variant(self) -> str:
        """E.g. ``"style loss: Gram (C·N normalised), MSE, layers relu1_1..relu4_1, Caffe VGG-19 q8"``."""
        layers = format_layers(self.layers)
        if self.style_variant == "gram":
            norm = {"CN": "C·N normalised", "N": "N normalised", "none": "unnormalised"}[self.normalize]
            what = f"Gram ({norm}), MSE"
        elif self.style_variant == "covariance":
            divisor = "N-1" if self.unbiased else "N"
            what = f"covariance (centred, /{divisor}), squared Frobenius"
        else:
            var = "biased" if self.unbiased is False else "unbiased"
            what = f"mean/std ({var} var + {format_eps(self.eps)}), MSE(mean) + MSE(std)"
        return f"style loss: {what}, layers {layers}, {self._slot.name}"
