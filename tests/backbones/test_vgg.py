from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

from stylelab.backbones import VGGEncoder, vgg_layer_names
from stylelab.backbones import weights as W


def test_layer_names_match_torchvision_indices() -> None:
    names = vgg_layer_names("vgg19")
    assert len(names) == len(torchvision.models.vgg19().features)
    # indices given in the data manifest
    for tap, index in {
        "relu1_1": 1,
        "relu2_1": 6,
        "relu3_1": 11,
        "relu4_1": 20,
        "relu5_1": 29,
        "relu5_4": 35,
    }.items():
        assert names.index(tap) == index
    assert len(vgg_layer_names("vgg16")) == len(torchvision.models.vgg16().features)


def test_shapes_and_blockwise_forward_agree() -> None:
    enc = VGGEncoder("vgg19", weights=None, last_tap="relu4_1")
    x = torch.rand(2, 3, 64, 48)
    feats = enc(x, taps=["relu1_1", "relu2_1", "relu3_1", "relu4_1"])
    assert feats["relu1_1"].shape == (2, 64, 64, 48)
    assert feats["relu4_1"].shape == (2, 512, 8, 6)
    staged = enc.encode_between(feats["relu2_1"], "relu2_1", "relu4_1")
    torch.testing.assert_close(staged, feats["relu4_1"])
    direct = enc.encode_between(x, None, "relu3_1")
    torch.testing.assert_close(direct, feats["relu3_1"])


def test_random_weights_equal_torchvision_with_same_state() -> None:
    enc = VGGEncoder("vgg16", weights=None, last_tap="relu5_3")
    reference = torchvision.models.vgg16().features[:30].eval()
    reference.load_state_dict(enc.features.state_dict())
    x = torch.rand(1, 3, 32, 32)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    torch.testing.assert_close(enc(x, ["relu5_3"])["relu5_3"], reference((x - mean) / std))


def test_frozen_but_differentiable_input() -> None:
    enc = VGGEncoder("vgg19", weights=None, last_tap="relu2_1")
    assert not any(p.requires_grad for p in enc.parameters())
    enc.train()
    assert not enc.training
    x = torch.rand(1, 3, 16, 16, requires_grad=True)
    enc(x)["relu2_1"].sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="unknown layer"):
        VGGEncoder("vgg19", weights=None, last_tap="relu9_9")
    enc = VGGEncoder("vgg19", weights=None, last_tap="relu2_1")
    with pytest.raises(ValueError, match="RGB"):
        enc(torch.rand(1, 1, 8, 8))
    with pytest.raises(ValueError, match="built up to relu2_1"):
        enc(torch.rand(1, 3, 8, 8), taps=["relu3_1"])
    with pytest.raises(ValueError, match="relu3_1"):
        VGGEncoder("vgg19", weights="vgg19_normalised_r31", last_tap="relu4_1")


def _photo(path: Path) -> torch.Tensor:
    return torch.from_numpy(np.array(Image.open(path).convert("RGB"))).permute(2, 0, 1).float().div(255)[None]


def _per_channel_pearson(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    a, b = a.flatten(2)[0].double(), b.flatten(2)[0].double()
    a, b = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1)).clamp_min(1e-12)


@pytest.mark.shared_data
def test_caffe_q8_and_normalised_agree_up_to_channel_scale(
    shared_weights: Path, shared_images: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """relu3_1 of the quantised Caffe VGG-19 and of the exact vgg_normalised file differ by a positive
    per-channel scale only, which proves both preprocessing paths (x255 - RGB mean; folded 1x1 BGR conv)."""
    monkeypatch.setenv(W.WEIGHTS_ENV, str(shared_weights))
    q8 = VGGEncoder("vgg19", "vgg19_caffe_q8", last_tap="relu3_1", padding="reflect")
    normalised = VGGEncoder("vgg19", "vgg19_normalised_r31", last_tap="relu3_1", padding="reflect")
    x = _photo(shared_images / "content" / "skimage_chelsea.png")
    with torch.no_grad():
        a, b = q8(x)["relu3_1"], normalised(x)["relu3_1"]
        r = _per_channel_pearson(a, b)
        # The q8 copy carries ~1% codebook noise per layer, so a few channels sit just under 0.999.
        assert r.median() >= 0.999
        assert (r >= 0.999).float().mean() >= 0.95
        assert r.min() >= 0.995
        # positive scale: the least-squares slope per channel is positive for every active channel
        slope = (a.flatten(2) * b.flatten(2)).sum(-1) / b.flatten(2).pow(2).sum(-1).clamp_min(1e-12)
        assert (slope[b.flatten(2).abs().sum(-1) > 0] > 0).all()
        # control: a wrong preprocessing (BGR fed as RGB) fails the same check
        wrong = _per_channel_pearson(q8(x[:, [2, 1, 0]])["relu3_1"], b)
        assert wrong.median() < 0.99
