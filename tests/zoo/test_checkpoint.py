"""Zoo checkpoints: export keeps only what the constructor cannot rebuild; loading reproduces the model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from stylelab.methods.adain import AdaIN
from stylelab.zoo.checkpoint import export_zoo_checkpoint, load_zoo_checkpoint, read_zoo_metadata


def _lightning_checkpoint(model: AdaIN, path: Path) -> Path:
    """What ``ModelCheckpoint`` writes, in the fields ``load_method`` reads."""
    torch.save(
        {
            "stylelab_method": "adain",
            "hyper_parameters": dict(model.hparams),
            "state_dict": model.state_dict(),
        },
        path,
    )
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[AdaIN, Path]:
    """AdaIN at relu3_1 (shipped encoder and decoder) whose decoder moved away from the pretrained one."""
    model = AdaIN(encoder_weights="vgg19_normalised_r31", layer="relu3_1", decoder="pretrained_r31").eval()
    with torch.no_grad():
        for p in model.net.decoder.parameters():
            p.add_(0.01 * torch.randn_like(p))
    return model, _lightning_checkpoint(model, tmp_path_factory.mktemp("zoo") / "last.ckpt")


def test_export_drops_what_the_constructor_rebuilds(trained: tuple[AdaIN, Path], tmp_path: Path) -> None:
    model, ckpt = trained
    info = export_zoo_checkpoint(ckpt, tmp_path / "adain.safetensors", precision=16)
    stored = load_file(tmp_path / "adain.safetensors")
    decoder = {k for k in model.state_dict() if k.startswith("net.decoder.")}
    assert set(stored) == decoder  # the frozen shipped encoder is rebuilt, the moved decoder is not
    assert all(v.dtype == torch.float16 for v in stored.values())
    assert info["parameters"] == sum(model.state_dict()[k].numel() for k in decoder)
    assert read_zoo_metadata(tmp_path / "adain.safetensors")["stylelab_method"] == "adain"


@pytest.mark.parametrize(("precision", "tolerance"), [(32, 0.0), (16, 2e-2)])
def test_round_trip_reproduces_outputs(
    trained: tuple[AdaIN, Path], tmp_path: Path, precision: int, tolerance: float
) -> None:
    model, ckpt = trained
    path = tmp_path / "adain.safetensors"
    export_zoo_checkpoint(ckpt, path, precision=precision)
    loaded = load_zoo_checkpoint(path)
    assert loaded.zoo_file == path and model.zoo_file is None  # provenance for benchmark rows
    content, style = torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64)
    expected, got = model.stylize(content, style), loaded.stylize(content, style)
    assert (expected - got).abs().max().item() <= tolerance
    if precision == 16:  # float16 storage changes the weights, so outputs differ a little but not zero
        assert (expected - got).abs().max().item() > 0


def test_load_rejects_foreign_files(trained: tuple[AdaIN, Path], tmp_path: Path) -> None:
    plain = tmp_path / "plain.safetensors"
    save_file({"x": torch.zeros(2)}, plain)
    with pytest.raises(ValueError, match="not a stylelab zoo checkpoint"):
        load_zoo_checkpoint(plain)
    with pytest.raises(FileNotFoundError):
        load_zoo_checkpoint(tmp_path / "missing.safetensors")
    _, ckpt = trained
    path = tmp_path / "adain.safetensors"
    export_zoo_checkpoint(ckpt, path)
    stored, metadata = load_file(path), read_zoo_metadata(path)
    stored["net.not_a_layer.weight"] = torch.zeros(1)
    save_file(stored, tmp_path / "extra.safetensors", metadata=metadata)
    with pytest.raises(ValueError, match="do not belong"):
        load_zoo_checkpoint(tmp_path / "extra.safetensors")
