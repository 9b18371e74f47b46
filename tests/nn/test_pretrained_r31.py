"""The shipped pretrained relu3_1 pair against a plain forward of the raw files (no stylelab layers)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from stylelab.backbones import resolve_weights
from stylelab.nn import PretrainedR31


def _raw_forward(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """relu3_1 and reconstruction from the raw LinearStyleTransfer files, written out layer by layer."""
    enc = torch.load(resolve_weights("vgg19_normalised_r31").path, map_location="cpu", weights_only=True)
    dec = torch.load(
        resolve_weights("vgg19_normalised_r31_decoder").path, map_location="cpu", weights_only=True
    )

    def conv(h: torch.Tensor, sd: dict, key: str, relu: bool = True) -> torch.Tensor:
        out = F.conv2d(F.pad(h, (1, 1, 1, 1), mode="reflect"), sd[key + ".weight"], sd[key + ".bias"])
        return F.relu(out) if relu else out

    h = F.conv2d(image, enc["conv1.weight"], enc["conv1.bias"])
    h = F.max_pool2d(conv(conv(h, enc, "conv2"), enc, "conv3"), 2)
    h = F.max_pool2d(conv(conv(h, enc, "conv4"), enc, "conv5"), 2)
    feature = conv(h, enc, "conv6")
    y = F.interpolate(conv(feature, dec, "conv7"), scale_factor=2, mode="nearest")
    y = F.interpolate(conv(conv(y, dec, "conv8"), dec, "conv9"), scale_factor=2, mode="nearest")
    y = conv(conv(y, dec, "conv10"), dec, "conv11", relu=False)
    return feature, y.clamp(0, 1)


def test_shipped_pair_resolves_without_weights_folder(monkeypatch) -> None:
    monkeypatch.delenv("STYLELAB_WEIGHTS", raising=False)
    monkeypatch.setenv("STYLELAB_OFFLINE", "1")
    for name in ("vgg19_normalised_r31", "vgg19_normalised_r31_decoder"):
        assert resolve_weights(name).source == "package stylelab"


def test_pipeline_equals_raw_forward() -> None:
    torch.manual_seed(0)
    image = torch.rand(1, 3, 36, 44)
    pipe = PretrainedR31()
    feature, reconstruction = _raw_forward(image)
    with torch.no_grad():
        ours = pipe.encode(image)
        assert torch.allclose(ours, feature, rtol=1e-4, atol=1e-3)
        assert torch.allclose(pipe.decode(ours), reconstruction, atol=1e-5)


def test_reconstructs_a_smooth_image() -> None:
    """A pretrained decoder inverts the encoder (an untrained one would be far below 20 dB)."""
    y, x = torch.meshgrid(torch.linspace(0, 1, 64), torch.linspace(0, 1, 64), indexing="ij")
    image = torch.stack([x, y, 0.5 + 0.4 * torch.sin(6 * x * y)])[None]
    with torch.no_grad():
        psnr = -10 * math.log10(F.mse_loss(PretrainedR31()(image), image).item())
    assert psnr > 20.0
