"""Pretrained feature extractors and the weights registry."""

from stylelab.backbones.vgg import VGGEncoder, vgg_layer_names
from stylelab.backbones.weights import (
    REGISTRY,
    WeightsChecksumError,
    WeightsNotFoundError,
    WeightSpec,
    get_spec,
    load_weights,
    registered_names,
    resolve_weights,
)

__all__ = [
    "REGISTRY",
    "VGGEncoder",
    "WeightSpec",
    "WeightsChecksumError",
    "WeightsNotFoundError",
    "get_spec",
    "load_weights",
    "registered_names",
    "resolve_weights",
    "vgg_layer_names",
]
