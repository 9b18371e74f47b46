from __future__ import annotations

import pytest
import torch

from stylelab.backbones import VGGEncoder
from stylelab.metrics import StyleLoss, describe_encoder
from stylelab.metrics._format import format_layers
from stylelab.metrics.encoder import EncoderSlot, deepest_layer

from ._helpers import TinyEncoder, random_images


def test_describe_encoder_names_weights_and_deviations() -> None:
    assert describe_encoder(VGGEncoder("vgg19", weights=None, last_tap="relu1_1")) == "random-init VGG-19"
    reflect = VGGEncoder("vgg16", weights=None, last_tap="relu1_1", padding="reflect", pool="avg")
    assert describe_encoder(reflect) == "random-init VGG-16 (reflect padding, avg pooling)"
    assert describe_encoder(TinyEncoder()) == "tiny random encoder"
    assert describe_encoder(lambda x, taps: {}) == "function"


def test_format_layers() -> None:
    assert format_layers(["relu1_1", "relu2_1", "relu3_1"]) == "relu1_1..relu3_1"
    assert format_layers(["relu1_1", "relu3_1", "relu4_1"]) == "relu1_1+relu3_1+relu4_1"
    assert format_layers(["relu1_2", "relu2_2", "relu3_2"]) == "relu1_2+relu2_2+relu3_2"
    assert format_layers(["relu4_1"]) == "relu4_1"


def test_deepest_layer_and_slot_errors() -> None:
    assert deepest_layer(["relu3_1", "relu1_2", "relu4_2"]) == "relu4_2"
    with pytest.raises(ValueError, match="Pass encoder"):
        deepest_layer(["block3"])
    with pytest.raises(TypeError, match="callable"):
        EncoderSlot(42, "vgg19_caffe_q8", ["relu1_1"])  # type: ignore[arg-type]


def test_metric_keeps_the_encoder_out_of_its_state_and_survives_a_state_dict_round_trip() -> None:
    encoder = TinyEncoder(seed=3)
    metric = StyleLoss("gram", encoder=encoder)
    before = metric.state_dict()
    metric.update(random_images(2), random_images(2, seed=5))
    after = metric.state_dict()
    assert set(before) == set(after)  # nothing appears after the first update ...
    assert not list(metric.parameters()) and not any("weight" in key for key in after)  # ... nor before
    fresh = StyleLoss("gram", encoder=encoder)
    fresh.load_state_dict(after, strict=True)
    assert metric.higher_is_better is False
    assert isinstance(metric.compute(), torch.Tensor)
