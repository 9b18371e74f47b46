"""The feature encoder a perceptual metric uses: protocol, lazy default, human-readable label.

Perceptual metrics (style/content loss, CFSD) take any callable ``encoder(images, taps) -> {tap: feature}``
with images ``(B, 3, H, W)`` RGB in ``[0, 1]`` (the encoder owns its preprocessing), e.g.
:class:`stylelab.backbones.VGGEncoder`. Tests inject a small random-weight encoder; otherwise the metric
builds the default VGG-19 on first use, so constructing a metric never reads weight files.

The encoder is *not* registered as a sub-module of the metric: it stays out of the metric's
``state_dict`` (a Lightning checkpoint does not grow by 80 MB, and a checkpoint written before the first
update loads into one written after). It is moved to the input's device on every update instead.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from torch import Tensor, nn


@runtime_checkable
class FeatureEncoder(Protocol):
    """Anything that maps RGB ``[0, 1]`` images to named features."""

    def __call__(self, x: Tensor, taps: Sequence[str]) -> dict[str, Tensor]:
        """Encode ``x`` ``(B, 3, H, W)`` and return ``{tap: (B, C, h, w)}`` for every requested tap."""
        ...


_WEIGHT_LABELS = {
    "vgg19_caffe_q8": "Caffe VGG-19 q8",
    "vgg19_caffe": "Caffe VGG-19 q8",
    "vgg19_normalised_r31": "normalised VGG-19 (to relu3_1)",
    "vgg19_torchvision": "torchvision VGG-19",
    "vgg16_torchvision": "torchvision VGG-16",
}

#: Order of the VGG ReLU taps, used to find the deepest layer a metric needs.
VGG_RELU_ORDER = (
    "relu1_1", "relu1_2", "relu2_1", "relu2_2",
    "relu3_1", "relu3_2", "relu3_3", "relu3_4",
    "relu4_1", "relu4_2", "relu4_3", "relu4_4",
    "relu5_1", "relu5_2", "relu5_3", "relu5_4",
)  # fmt: skip


def deepest_layer(layers: Sequence[str]) -> str:
    """The deepest of ``layers`` in VGG order (the ``last_tap`` a default encoder must reach).

    Raises:
        ValueError: If a name is not a VGG ReLU tap (pass your own encoder for other taps).
    """
    unknown = [name for name in layers if name not in VGG_RELU_ORDER]
    if unknown:
        raise ValueError(
            f"the default VGG encoder has no taps {unknown}; valid taps: {', '.join(VGG_RELU_ORDER)}. "
            "Pass encoder=... to use other layer names."
        )
    return max(layers, key=VGG_RELU_ORDER.index)


@functools.lru_cache(maxsize=4)
def default_vgg_encoder(weights: str, last_tap: str, arch: str = "vgg19") -> nn.Module:
    """Build (once per argument set) the frozen VGG encoder a metric uses when none is injected.

    Args:
        weights: Registry name, e.g. ``"vgg19_caffe_q8"`` (see :mod:`stylelab.backbones.weights`).
        last_tap: Deepest layer needed.
        arch: ``"vgg19"`` or ``"vgg16"``.

    Returns:
        A frozen :class:`stylelab.backbones.VGGEncoder` on the CPU (cached; moved to the input's device
        by the caller).

    Raises:
        stylelab.backbones.WeightsNotFoundError: The weights are not available offline and cannot be
            downloaded; the message lists where it looked.
    """
    from stylelab.backbones.vgg import VGGEncoder

    return VGGEncoder(arch, weights=weights, last_tap=last_tap)  # type: ignore[arg-type]


def describe_encoder(encoder: object) -> str:
    """Short label of an encoder for a metric's ``variant`` string.

    ``VGGEncoder`` instances are named after their weights (``"Caffe VGG-19 q8"``); other objects after
    their ``name`` attribute, else their class name.
    """
    weights = getattr(encoder, "weights_name", "missing")
    arch = getattr(encoder, "arch", None)
    if weights != "missing" and arch is not None:
        arch_label = {"vgg19": "VGG-19", "vgg16": "VGG-16"}.get(str(arch), str(arch))
        label = f"random-init {arch_label}" if weights is None else _WEIGHT_LABELS.get(weights, weights)
        extras = []
        if getattr(encoder, "padding", "zero") != "zero":
            extras.append(f"{encoder.padding} padding")  # type: ignore[attr-defined]
        if getattr(encoder, "pool", "max") != "max":
            extras.append(f"{encoder.pool} pooling")  # type: ignore[attr-defined]
        return label + (f" ({', '.join(extras)})" if extras else "")
    return str(getattr(encoder, "name", type(encoder).__name__))


def weights_label(weights: str) -> str:
    """Label of a registry weight name as :func:`describe_encoder` would give it."""
    return _WEIGHT_LABELS.get(weights, weights)


def move_to(module: object, reference: Tensor) -> None:
    """Move an ``nn.Module`` encoder to ``reference``'s device if it is elsewhere (no-op otherwise)."""
    if not isinstance(module, nn.Module):
        return
    first = next(itertools.chain(module.parameters(), module.buffers()), None)
    if first is not None and first.device != reference.device:
        module.to(reference.device)


class EncoderSlot:
    """Holds an injected encoder, or builds the default VGG one on first use.

    Args:
        encoder: Injected encoder, or ``None`` for the default.
        weights: Registry weights of the default encoder.
        layers: Taps the metric needs (fixes the default encoder's ``last_tap``).
        name: Label for ``variant``; default: :func:`describe_encoder` of the injected encoder, or the
            weights' label.
    """

    def __init__(
        self, encoder: FeatureEncoder | None, weights: str, layers: Sequence[str], name: str | None = None
    ) -> None:
        if encoder is not None and not callable(encoder):
            raise TypeError(
                f"encoder must be callable as encoder(images, taps); got {type(encoder).__name__}"
            )
        if encoder is None:
            deepest_layer(layers)  # fail early on taps the default VGG does not have
        self._encoder = encoder
        self.weights = weights
        self.layers = list(layers)
        self.name = name or (describe_encoder(encoder) if encoder is not None else weights_label(weights))

    def get(self, reference: Tensor) -> FeatureEncoder:
        """The encoder, built if needed and moved to ``reference``'s device."""
        if self._encoder is None:
            self._encoder = default_vgg_encoder(self.weights, deepest_layer(self.layers))
        move_to(self._encoder, reference)
        return self._encoder

    def encode(self, x: Tensor) -> dict[str, Tensor]:
        """Features of ``x`` ``(B, 3, H, W)`` at the metric's layers."""
        return self.get(x)(x, self.layers)
