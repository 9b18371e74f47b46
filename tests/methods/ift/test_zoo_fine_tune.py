"""IFT zoo recipe: the ``pretrained_r31`` decoder fine-tuned with L_AE; the stylize default that loads it."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import torch
from torch import nn

from stylelab import zoo
from stylelab.cli import main
from stylelab.methods import load_method
from stylelab.methods.ift import IFT, IFTR31Net
from stylelab.nn.pretrained_r31 import r31_decoder, r31_encoder
from stylelab.zoo.checkpoint import export_zoo_checkpoint, load_zoo_checkpoint

CONFIG = Path(__file__).resolve().parents[3] / "configs" / "zoo" / "ift.yaml"
DECODER = "net.pipeline.decoder."
SAVE_AT_STEP_2 = "{class_path: ModelCheckpoint, init_args: {dirpath: ckpt, every_n_train_steps: 2}}"


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh clone's environment: no ``$STYLELAB_WEIGHTS``, no network."""
    monkeypatch.delenv("STYLELAB_WEIGHTS", raising=False)
    monkeypatch.setenv("STYLELAB_OFFLINE", "1")


def _stylize_options(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    IFT.add_stylize_arguments(parser)
    return parser.parse_args(list(argv))


def test_r31_ae_losses_are_eq28_by_hand(offline: None) -> None:
    """Eq. 28 on the raw decoder output, both reductions, built from the shipped pair independently."""
    net = IFTR31Net(fine_tune_decoder=True)
    image = torch.rand(2, 3, 32, 40, generator=torch.Generator().manual_seed(0))
    encoder, decoder = r31_encoder(), r31_decoder()
    with torch.no_grad():  # push the output above 1 in places, so a clamped output would give other numbers
        for module in (net.decoder, decoder):
            [m for m in module.modules() if isinstance(m, nn.Conv2d)][-1].bias += 0.6
        feat = encoder(image, ["relu3_1"])["relu3_1"]
        out = decoder(feat)
        back = encoder(out, ["relu3_1"])["relu3_1"]
        sums = net.ae_losses(image, "relu3_1", "sum")
        means = net.ae_losses(image, "relu3_1", "mean")
    assert (out > 1).any()
    torch.testing.assert_close(sums["pixel"], (out - image).pow(2).sum() / 2)
    torch.testing.assert_close(sums["feature"], (back - feat).pow(2).sum() / 2)
    torch.testing.assert_close(means["pixel"], (out - image).pow(2).mean())
    torch.testing.assert_close(means["feature"], (back - feat).pow(2).mean())
    assert set(sums) == {"pixel", "feature"}
    with pytest.raises(ValueError, match="relu3_1"):
        net.ae_losses(image, "relu4_1")
    with pytest.raises(ValueError, match="intermediate"):
        net.ae_losses(image, "relu3_1", intermediate=True)


def test_module_loss_weights_the_two_terms(offline: None) -> None:
    image = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    model = IFT(preset="pretrained_r31", fine_tune_decoder=True, pixel_weight=3.0, feature_weight=0.5)
    with torch.no_grad():
        total, terms = model._loss_terms(image, model.current_stage())
    assert model.current_stage() == "relu3_1"
    expected = 3.0 * terms["relu3_1/pixel"] + 0.5 * terms["relu3_1/feature"]
    torch.testing.assert_close(total, expected)


def test_frozen_preset_still_refuses_training_and_bad_combinations(offline: None) -> None:
    frozen = IFT(preset="pretrained_r31")
    assert not any(p.requires_grad for p in frozen.net.decoder.parameters())
    with pytest.raises(RuntimeError, match="needs no training"):
        frozen.configure_optimizers()
    tuned = IFT(preset="pretrained_r31", fine_tune_decoder=True)
    assert all(p.requires_grad for p in tuned.net.decoder.parameters())
    assert not any(p.requires_grad for p in tuned.net.pipeline.encoder.parameters())
    optimiser = tuned.configure_optimizers()
    optimised = {id(p) for group in optimiser.param_groups for p in group["params"]}
    assert optimised == {id(p) for p in tuned.net.decoder.parameters()}
    assert "fine-tuned" in tuned.variant() and "fine-tuned" not in frozen.variant()
    with pytest.raises(ValueError, match="pretrained_r31 only"):
        IFT(encoder_weights=None, preset="photorealistic", fine_tune_decoder=True)
    with pytest.raises(ValueError, match="intermediate_weight"):
        IFT(preset="pretrained_r31", fine_tune_decoder=True, intermediate_weight=0.1)


def test_zoo_config_fine_tunes_only_the_decoder(
    offline: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two ``stylelab fit`` steps of configs/zoo/ift.yaml (embedded sample, tiny crops), then the export."""
    monkeypatch.chdir(tmp_path)
    fast = ["--trainer.accelerator=cpu", "--trainer.logger=false", "--trainer.enable_progress_bar=false",
            "--trainer.enable_model_summary=false", "--trainer.max_steps=2",
            f"--trainer.callbacks=[{SAVE_AT_STEP_2}]",
            "--data.init_args.content=null", "--data.init_args.style=null", "--data.init_args.load_size=48",
            "--data.init_args.crop_size=32", "--data.init_args.batch_size=2",
            "--data.init_args.samples_per_epoch=4",
            "--model.init_args.lr=1e-3"]  # fmt: skip
    main(["fit", "--config", str(CONFIG), *fast])
    checkpoint = next(tmp_path.rglob("*.ckpt"))
    model = load_method(checkpoint)
    assert (
        isinstance(model, IFT)
        and model.hparams.fine_tune_decoder
        and model.hparams.preset == "pretrained_r31"
    )
    fresh = IFT(preset="pretrained_r31", fine_tune_decoder=True).state_dict()
    tuned = model.state_dict()
    changed = {k for k, v in tuned.items() if not torch.equal(v, fresh[k])}
    assert changed and all(k.startswith(DECODER) for k in changed)
    assert all(torch.equal(v, fresh[k]) for k, v in tuned.items() if k.startswith("net.pipeline.encoder."))
    # the zoo file keeps the decoder only, and loads back into the same method
    info = export_zoo_checkpoint(checkpoint, tmp_path / "ift.safetensors")
    assert info["dropped"] > 0 and info["parameters"] == sum(
        p.numel() for p in model.net.decoder.parameters()
    )
    loaded = load_zoo_checkpoint(tmp_path / "ift.safetensors")
    assert isinstance(loaded, IFT) and loaded.hparams.fine_tune_decoder
    for key, value in loaded.net.decoder.state_dict().items():
        torch.testing.assert_close(value, model.net.decoder.state_dict()[key], atol=2e-3, rtol=1e-3)


def test_stylize_default_loads_the_zoo_or_falls_back(offline: None, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    sentinel = object()

    def shipped(name: str, **overrides: object) -> object:
        asked.append(name)
        return sentinel

    def missing(name: str, **overrides: object) -> object:
        asked.append(name)
        raise FileNotFoundError(f"the model zoo has no {name} checkpoint")

    monkeypatch.setattr(zoo, "load_zoo_method", shipped)
    assert IFT.from_stylize_options(_stylize_options()) is sentinel
    assert IFT.from_stylize_options(_stylize_options("--preset", "pretrained_r31")) is sentinel
    assert asked == ["ift", "ift"]
    untrained = IFT.from_stylize_options(_stylize_options("--decoder", "pretrained_r31"))
    assert isinstance(untrained, IFT) and asked == ["ift", "ift"]  # not asked for the zoo
    monkeypatch.setattr(zoo, "load_zoo_method", missing)
    fallback = IFT.from_stylize_options(_stylize_options())
    assert asked[-1] == "ift" and isinstance(fallback, IFT)
    assert fallback.hparams.preset == "pretrained_r31" and not fallback.hparams.fine_tune_decoder
    assert "pretrained relu3_1 decoder" in fallback.variant() and "fine-tuned" not in fallback.variant()
