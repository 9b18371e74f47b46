"""IFT preset ``pretrained_r31``: shipped relu3_1 pair, IFT at relu3_1, no training, no checkpoint."""

from __future__ import annotations

import pytest
import torch

from stylelab.backbones import load_weights
from stylelab.backbones.weights import resolve_weights
from stylelab.methods.ift import IFT, IFTNet, IFTR31Net, resolve_levels
from stylelab.methods.ift.presets import (
    PRETRAINED_R31_LAM,
    PRETRAINED_R31_N_UPD,
    PRETRAINED_R31_STEP_RULE,
    network_of,
)
from stylelab.nn.pretrained_r31 import r31_decoder, r31_encoder
from stylelab.ops.ift import ift_transform


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh clone's environment: no ``$STYLELAB_WEIGHTS``, no network."""
    monkeypatch.delenv("STYLELAB_WEIGHTS", raising=False)
    monkeypatch.setenv("STYLELAB_OFFLINE", "1")


@pytest.fixture(scope="module")
def model() -> IFT:
    """One preset model for the module, built offline (no ``$STYLELAB_WEIGHTS``, no network)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("STYLELAB_WEIGHTS", raising=False)
        mp.setenv("STYLELAB_OFFLINE", "1")
        return IFT(preset="pretrained_r31").eval()


def _images(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y, x = torch.meshgrid(torch.linspace(0, 6, 48), torch.linspace(0, 6, 64), indexing="ij")
    content = torch.stack([torch.sin(x) * 0.4 + 0.5, torch.cos(y) * 0.4 + 0.5, (x + y) / 12])[None]
    style = torch.rand(1, 3, 40, 40, generator=g)
    return content, style


def test_preset_builds_offline_from_the_shipped_weights(offline: None) -> None:
    for name in ("vgg19_normalised_r31", "vgg19_normalised_r31_decoder"):
        assert resolve_weights(name).source == "package stylelab"
    model = IFT(preset="pretrained_r31")
    assert network_of("pretrained_r31") == "pretrained_r31"
    assert isinstance(model.net, IFTR31Net) and not isinstance(model.net, IFTNet)
    # no Caffe VGG and no decoder blocks: only the shipped pair
    shipped = load_weights("vgg19_normalised_r31_decoder")
    decoder = model.net.pipeline.decoder.state_dict()
    assert decoder.keys() == shipped.keys()
    assert all(torch.equal(decoder[k], shipped[k]) for k in shipped)
    assert model._levels(None, None, None) == resolve_levels("pretrained_r31")
    assert resolve_levels("pretrained_r31")["relu3_1"].n_upd == PRETRAINED_R31_N_UPD
    assert "pretrained_r31" in model.variant() and "relu3_1" in model.variant()
    with pytest.raises(RuntimeError, match="needs no training"):
        model.configure_optimizers()


def test_preset_output_is_the_pretrained_decoder_of_the_ift_transform(offline: None, model: IFT) -> None:
    """Built independently: exact encoder, IFT with the preset's settings, the pretrained decoder.

    Three updates instead of the preset's count keep the test fast on tiny images (the direct form).
    """
    content, style = _images(0)
    out = model.stylize(content, style, n_upd=3)
    encoder, decoder = r31_encoder(), r31_decoder().eval()
    with torch.no_grad():
        fc, fs = encoder(content, ["relu3_1"])["relu3_1"], encoder(style, ["relu3_1"])["relu3_1"]
        feat = ift_transform(fc, fs, lam=PRETRAINED_R31_LAM, n_upd=3, step_rule=PRETRAINED_R31_STEP_RULE)
        expected = decoder(feat).clamp(0, 1)
        reconstruction = decoder(fc).clamp(0, 1)
        random_decoder = r31_decoder(pretrained=False)(feat).clamp(0, 1)
    assert out.shape == content.shape
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=0)
    assert (out - reconstruction).abs().mean() > 0.02  # the transform was applied
    assert (out - random_decoder).abs().mean() > 0.05  # and decoded by the pretrained decoder
    # n_upd = 0 skips the transform: the plain reconstruction
    torch.testing.assert_close(model.stylize(content, style, n_upd=0), reconstruction, atol=1e-5, rtol=0)


def test_preset_overrides_and_network_mismatch(model: IFT) -> None:
    content, style = _images(1)
    weak = model.stylize(content, style, lam=1.0, n_upd=2)
    strong = model.stylize(content, style, n_upd=2)
    assert not torch.allclose(weak, strong)
    with pytest.raises(ValueError, match="relu3_1 only"):
        model.stylize(content, style, lam="relu4_1=5")
    with pytest.raises(ValueError, match="needs a trained IFT checkpoint"):
        model.stylize(content, style, preset="photorealistic")
    blocks = IFT(encoder_weights=None)
    with pytest.raises(ValueError, match="preset='pretrained_r31'"):
        blocks.stylize(content, style, preset="pretrained_r31")


def test_two_styles_and_masks_run_on_the_pretrained_pipeline(model: IFT) -> None:
    content, style = _images(2)
    other = torch.rand(1, 3, 32, 44, generator=torch.Generator().manual_seed(3))
    mixed = model.stylize(content, [style, other], style_weights=[0.7, 0.3], n_upd=2)
    assert mixed.shape == content.shape and torch.isfinite(mixed).all()
    c_mask = torch.zeros(1, 48, 64, dtype=torch.long)
    c_mask[:, 24:] = 1
    s_mask = torch.zeros(1, 40, 40, dtype=torch.long)
    s_mask[:, 20:] = 1
    masked = model.stylize(content, style, content_mask=c_mask, style_masks=s_mask, n_upd=2)
    assert masked.shape == content.shape and torch.isfinite(masked).all()
    for transform in ("zca", "adain"):  # the linear-blend comparisons through the same decoder
        blend = model.stylize(content, [style, other], transform=transform)
        assert blend.shape == content.shape and not torch.allclose(blend, mixed)
