from __future__ import annotations

from pathlib import Path

import pytest
import torch

from stylelab.backbones import VGGEncoder
from stylelab.losses import gram_style_loss
from stylelab.metrics import DEFAULT_STYLE_LAYERS, StyleLoss, style_loss
from stylelab.metrics.encoder import default_vgg_encoder

from ._helpers import TinyEncoder, load_image, random_images


@pytest.fixture(scope="module")
def encoder() -> TinyEncoder:
    return TinyEncoder(seed=1)


@pytest.mark.parametrize("variant", ["gram", "covariance", "mean_std"])
def test_metric_mean_over_batches_equals_functional_on_everything(variant: str, encoder: TinyEncoder) -> None:
    out, sty = random_images(6, seed=1), random_images(6, seed=2)
    metric = StyleLoss(variant, encoder=encoder)  # type: ignore[arg-type]
    metric.update(out[:4], sty[:4])
    metric.update(out[4:], sty[4:])
    expected = style_loss(out, sty, variant, encoder=encoder)  # type: ignore[arg-type]
    torch.testing.assert_close(metric.compute().float(), expected, rtol=1e-6, atol=0)
    assert metric.count == 6
    assert metric.higher_is_better is False
    assert style_loss(out, out, variant, encoder=encoder).item() == 0  # type: ignore[arg-type]


def test_functional_is_the_feature_loss_on_encoder_features(encoder: TinyEncoder) -> None:
    out, sty = random_images(2, seed=3), random_images(1, seed=4, size=48)  # one style, other size
    layers = ["relu1_1", "relu3_1"]
    fo, fs = encoder(out, layers), encoder(sty, layers)
    expected = gram_style_loss(fo, fs, layers, normalize="N", reduction="none")
    got = style_loss(out, sty, "gram", layers=layers, encoder=encoder, normalize="N", reduction="none")
    torch.testing.assert_close(got, expected)


def test_variant_strings_spell_out_the_definition(encoder: TinyEncoder) -> None:
    assert StyleLoss("gram", encoder=encoder).variant == (
        "style loss: Gram (C·N normalised), MSE, layers relu1_1..relu4_1, tiny random encoder"
    )
    assert StyleLoss("covariance", encoder=encoder).variant == (
        "style loss: covariance (centred, /N), squared Frobenius, layers relu1_1..relu4_1, "
        "tiny random encoder"
    )
    assert StyleLoss("mean_std", encoder=encoder, encoder_name="X").variant == (
        "style loss: mean/std (unbiased var + 1e-05), MSE(mean) + MSE(std), layers relu1_1..relu5_1, X"
    )
    # The default encoder is named without being built.
    assert StyleLoss("mean_std", layers=["relu4_1", "relu5_1"]).variant.endswith(
        "layers relu4_1+relu5_1, Caffe VGG-19 q8"
    )
    assert DEFAULT_STYLE_LAYERS["mean_std"][-1] == "relu5_1"


def test_style_loss_is_differentiable_wrt_the_output(encoder: TinyEncoder) -> None:
    out = random_images(2, seed=5).requires_grad_(True)
    style_loss(out, random_images(2, seed=6), "mean_std", encoder=encoder).backward()
    assert out.grad is not None and out.grad.abs().sum() > 0


def test_encoder_is_kept_out_of_the_metric_state_dict(encoder: TinyEncoder) -> None:
    metric = StyleLoss("gram", encoder=encoder)
    metric.update(random_images(1), random_images(1, seed=3))
    assert not list(metric.parameters())
    assert all(not k.startswith(("_slot", "encoder")) for k in metric.state_dict())


def test_bad_arguments_raise_clear_errors(encoder: TinyEncoder) -> None:
    with pytest.raises(ValueError, match="variant"):
        StyleLoss("wct", encoder=encoder)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no taps"):
        StyleLoss("gram", layers=["conv9_9"])  # default VGG cannot provide it
    with pytest.raises(ValueError, match="RGB"):
        style_loss(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 8), encoder=encoder)


def test_random_init_vgg_encoder_plugs_in() -> None:
    vgg = VGGEncoder("vgg19", weights=None, last_tap="relu5_1")
    metric = StyleLoss("mean_std", encoder=vgg)
    metric.update(random_images(1, size=32), random_images(1, seed=2, size=32))
    assert torch.isfinite(metric.compute()) and metric.compute() > 0
    assert metric.variant.endswith("random-init VGG-19")


@pytest.mark.shared_data
def test_default_caffe_vgg19_on_real_photos(
    shared_weights: Path, shared_images: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STYLELAB_WEIGHTS", str(shared_weights))
    monkeypatch.setenv("STYLELAB_OFFLINE", "1")
    default_vgg_encoder.cache_clear()
    try:
        content = load_image(shared_images / "content" / "skimage_chelsea.png", size=64)
        style = load_image(shared_images / "style" / sorted((shared_images / "style").iterdir())[0].name, 64)
        metric = StyleLoss("gram")
        metric.update(content, style)
        value = metric.compute()
        assert torch.isfinite(value) and value > 0
        assert style_loss(content, content, "gram").item() == 0
        assert metric.variant.endswith("Caffe VGG-19 q8")
    finally:
        default_vgg_encoder.cache_clear()
