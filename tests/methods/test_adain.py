from __future__ import annotations

from pathlib import Path

import pytest
import torch

from stylelab.methods import AdaIN, load_method
from stylelab.methods.base import METHODS, NonFiniteLossError, stylize_any_size
from stylelab.nn import MirroredVGGDecoder
from stylelab.ops import mean_std


def test_decoder_has_adain_parameter_count() -> None:
    # AdaIN's published decoder (relu4_1 mirror): 3,505,219 parameters.
    assert sum(p.numel() for p in MirroredVGGDecoder("relu4_1").parameters()) == 3_505_219


def test_registered_by_short_name() -> None:
    assert METHODS["adain"] is AdaIN


def test_stylize_shape_range_and_alpha_zero_reconstructs_content_feature() -> None:
    model = AdaIN(encoder_weights=None)
    content, style = torch.rand(2, 3, 32, 40), torch.rand(1, 3, 48, 48)
    out = model.stylize(content, style)
    assert out.shape == (2, 3, 32, 40) and out.min() >= 0 and out.max() <= 1
    # alpha=0 decodes the content feature itself: the style image has no influence
    a = model.stylize(content, style, alpha=0.0)
    b = model.stylize(content, torch.rand(1, 3, 48, 48), alpha=0.0)
    torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="alpha"):
        model.stylize(content, style, alpha=1.5)


def test_adain_target_carries_style_statistics() -> None:
    net = AdaIN(encoder_weights=None).net
    c, s = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    fc, fs = net.encoder(c)["relu4_1"], net.encoder(s)["relu4_1"]
    t = net.transfer(fc, fs)
    (mt, st), (ms, ss) = mean_std(t), mean_std(fs)
    # dead or near-constant channels (content or style): eps dominates their std
    live = (fc.flatten(2).std(-1).view_as(st) > 0.1) & (ss > 0.1)
    assert live.sum() > 100
    torch.testing.assert_close(mt, ms, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(st[live], ss[live], atol=1e-3, rtol=1e-3)


def test_training_step_updates_decoder_only() -> None:
    model = AdaIN(encoder_weights=None, lr=1e-3)
    optimizer = model.configure_optimizers()["optimizer"]
    encoder_before = [p.clone() for p in model.net.encoder.parameters()]
    decoder_before = [p.clone() for p in model.net.decoder.parameters()]
    batch = {"content": torch.rand(2, 3, 32, 32), "style": torch.rand(2, 3, 32, 32), "skipped": []}
    model.log = lambda *a, **k: None  # no trainer attached
    loss = model.training_step(batch, 0)
    assert loss is not None and torch.isfinite(loss)
    loss.backward()
    optimizer.step()
    assert all(
        torch.equal(a, b) for a, b in zip(encoder_before, model.net.encoder.parameters(), strict=False)
    )
    assert any(
        not torch.equal(a, b) for a, b in zip(decoder_before, model.net.decoder.parameters(), strict=False)
    )


def test_nonfinite_loss_raises_or_skips() -> None:
    model = AdaIN(encoder_weights=None)
    model.log = lambda *a, **k: None
    nan = torch.tensor(float("nan"))
    with pytest.raises(NonFiniteLossError, match="content=nan"):
        model.checked_loss(nan, {"loss": nan, "content": nan})
    skipping = AdaIN(encoder_weights=None, on_nonfinite="skip")
    skipping.log = lambda *a, **k: None
    skipping.print = lambda *a, **k: None
    assert skipping.checked_loss(nan, {"loss": nan}) is None


def test_checkpoint_round_trip_without_pickle(tmp_path: Path) -> None:
    model = AdaIN(encoder_weights=None, style_weight=3.0)
    with torch.no_grad():
        for p in model.net.decoder.parameters():
            p.add_(0.01)
    path = tmp_path / "m.ckpt"
    checkpoint = {"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams)}
    model.on_save_checkpoint(checkpoint)
    torch.save(checkpoint, path)
    restored = load_method(path)
    assert isinstance(restored, AdaIN) and restored.hparams.style_weight == 3.0
    x, s = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    torch.testing.assert_close(restored.stylize(x, s), model.stylize(x, s))


def test_load_method_rejects_foreign_files(tmp_path: Path) -> None:
    foreign = tmp_path / "other.ckpt"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(ValueError, match="stylelab_method"):
        load_method(foreign)
    garbage = tmp_path / "garbage.ckpt"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable"):
        load_method(garbage)


def test_any_size_stylization_keeps_size() -> None:
    model = AdaIN(encoder_weights=None)
    out = stylize_any_size(model, torch.rand(1, 3, 37, 53), torch.rand(1, 3, 21, 30))
    assert out.shape == (1, 3, 37, 53)


def test_pretrained_r31_decoder_is_the_shipped_one() -> None:
    from stylelab.backbones import load_weights
    from stylelab.methods.adain import AdaIN

    method = AdaIN(encoder_weights="vgg19_normalised_r31", layer="relu3_1", decoder="pretrained_r31")
    shipped = load_weights("vgg19_normalised_r31_decoder")
    state = method.net.decoder.state_dict()
    assert all(torch.equal(state[k], shipped[k]) for k in shipped)
    assert all(p.requires_grad for p in method.net.decoder.parameters())  # fine-tunable
    with pytest.raises(ValueError, match="relu3_1"):
        AdaIN(encoder_weights="vgg19_caffe_q8", layer="relu4_1", decoder="pretrained_r31")


def test_stylize_default_is_the_zoo_model_with_a_fallback(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """``stylelab stylize --method adain``: the zoo checkpoint; the untrained relu3_1 pair when none ships."""
    import argparse

    import stylelab.zoo as zoo

    sentinel = AdaIN(encoder_weights=None, layer="relu3_1")
    monkeypatch.setattr(zoo, "load_zoo_method", lambda name: sentinel if name == "adain" else None)
    assert AdaIN.from_stylize_options(argparse.Namespace(decoder="zoo")) is sentinel

    def missing(name: str) -> AdaIN:
        raise FileNotFoundError(f"the model zoo has no {name} checkpoint")

    monkeypatch.setattr(zoo, "load_zoo_method", missing)
    fallback = AdaIN.from_stylize_options(argparse.Namespace(decoder="zoo"))
    assert fallback.hparams.decoder == "pretrained_r31" and fallback.net.layer == "relu3_1"
    assert "using --decoder pretrained_r31" in capsys.readouterr().err
    chosen = AdaIN.from_stylize_options(argparse.Namespace(decoder="pretrained_r31"))
    assert chosen.hparams.decoder == "pretrained_r31"
