from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from stylelab.methods import load_method
from stylelab.methods.base import METHODS
from stylelab.methods.knowledge import KnowledgeTransfer
from stylelab.methods.knowledge.library import BuildSettings, build_library
from stylelab.methods.knowledge.model import pad_image
from stylelab.methods.knowledge.module import reconstruction_loss
from stylelab.methods.knowledge.storage import LibraryError

from .conftest import RANDOM


def test_registered_and_reconstruction_losses() -> None:
    assert METHODS["knowledge"] is KnowledgeTransfer
    out, target = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    # on [0, 1] pixels every error is below 1, so the code's SmoothL1 is half the MSE
    torch.testing.assert_close(
        reconstruction_loss(out, target, "smooth_l1"), 0.5 * reconstruction_loss(out, target, "mse")
    )
    torch.testing.assert_close(reconstruction_loss(out, target, "l1"), (out - target).abs().mean())
    with pytest.raises(ValueError, match="recon_loss"):
        KnowledgeTransfer(encoder_weights=None, recon_loss="l3")  # type: ignore[arg-type]


def test_training_updates_the_decoder_only() -> None:
    model = KnowledgeTransfer(encoder_weights=None, lr=1e-3)
    model.log = lambda *a, **k: None  # no trainer attached
    optimizer = model.configure_optimizers()
    enc = [p.clone() for p in model.net.encoder.parameters()]
    dec = [p.clone() for p in model.net.decoder.parameters()]
    batch = {"content": torch.rand(2, 3, 32, 32), "style": torch.rand(2, 3, 32, 32), "skipped": []}
    loss = model.training_step(batch, 0)
    assert loss is not None and torch.isfinite(loss)
    loss.backward()
    optimizer.step()
    assert all(torch.equal(a, b) for a, b in zip(enc, model.net.encoder.parameters(), strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(dec, model.net.decoder.parameters(), strict=True))
    assert int(model.decoder_steps) == 1


def _checkpoint(model: KnowledgeTransfer, path: Path) -> Path:
    torch.save({"stylelab_method": "knowledge", "hyper_parameters": dict(model.hparams),
                "state_dict": model.state_dict()}, path)  # fmt: skip
    return path


def test_checkpoint_roundtrip_and_layer_mismatch(tmp_path: Path, pictures: list[Path], library_root: Path,
                                                 small_settings: BuildSettings) -> None:  # fmt: skip
    model = KnowledgeTransfer(encoder_weights=None, probes=2)
    model.decoder_steps += 7
    back = load_method(_checkpoint(model, tmp_path / "k.ckpt"))
    assert isinstance(back, KnowledgeTransfer) and back.hparams.probes == 2 and int(back.decoder_steps) == 7
    deeper = RANDOM.__class__(weights=None, layer="relu3_2")
    build_library(pictures[:1], "deep", deeper, small_settings, progress=False).save()
    with pytest.raises(LibraryError, match=r"deep/library\.json.*relu3_2"):
        back.stylize(torch.rand(1, 3, 32, 32), library="deep")


def test_stylize_with_named_libraries_and_backtracking(
    pictures: list[Path], library_root: Path, small_settings: BuildSettings, tmp_path: Path
) -> None:
    build_library(pictures[:1], "a", RANDOM, small_settings, progress=False).save()
    build_library(pictures[1:], "b", RANDOM, small_settings, progress=False).save()
    model = KnowledgeTransfer(encoder_weights=None, search="exact", swap="geometric")
    content = torch.rand(2, 3, 40, 36)
    with pytest.warns(UserWarning, match="untrained"):
        out, matches, lib = model.stylize_with_library(content, "a,b")
    assert out.shape == (2, 3, 40, 36) and lib.names == ["a", "b"]
    record = model.backtrack(matches, lib, 1, "c.png", (40, 36))
    json.dumps(record)
    assert len(record["patches"]) == matches.grid[0] * matches.grid[1]
    feat = model.net.encode(pad_image(content[1:2], *matches.image_size))  # windows refer to the padded image
    for patch in record["patches"][::7]:
        source = patch["source"]
        entry = source["entry"]
        row, col = patch["grid"]
        q = feat[0, :, 2 * row : 2 * row + 4, 2 * col : 2 * col + 4].flatten()
        cosine = torch.nn.functional.cosine_similarity(q, lib.patches[entry].flatten(), dim=0)
        assert abs(float(cosine) - patch["similarity"]) < 1e-4
        assert source["library"] in ("a", "b") and source["image"] in (p.name for p in pictures)
        t, left, b, r = source["box"]
        size = lib.images[int(lib.image_index[entry])].size
        assert 0 <= t < b <= size[0] and 0 <= left < r <= size[1]
    # switching library without retraining; the exact search is the best match there
    out_b, matches_b, _ = model.stylize_with_library(content, "b")
    assert torch.all(matches_b.similarity <= matches.similarity + 1e-5)  # a+b contains b


def test_auto_weights_fall_back_to_the_shipped_vgg(monkeypatch: pytest.MonkeyPatch) -> None:
    from stylelab.backbones import WeightsNotFoundError
    from stylelab.backbones import weights as registry
    from stylelab.methods.knowledge.encoder import resolve_encoder_weights

    assert resolve_encoder_weights("vgg19_caffe_q8") == "vgg19_caffe_q8"
    assert resolve_encoder_weights(None) is None
    assert resolve_encoder_weights("auto", "relu3_2") == "vgg19_caffe_q8"  # normalised_r31 stops at relu3_1

    def missing(name: str, path: object = None) -> None:
        raise WeightsNotFoundError(name)

    monkeypatch.setattr(registry, "resolve_weights", missing)
    with pytest.warns(UserWarning, match="vgg19_caffe_q8"):
        assert resolve_encoder_weights("auto") == "vgg19_caffe_q8"
    monkeypatch.setattr(registry, "resolve_weights", lambda name, path=None: None)
    assert resolve_encoder_weights("auto") == "vgg19_normalised_r31"
