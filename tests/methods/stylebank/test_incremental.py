"""Incremental styles (paper §4.1): new banks on a frozen auto-encoder from an existing checkpoint."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch

from stylelab.methods import load_method
from stylelab.methods.stylebank import StyleBank


def save_base(path: Path, num_styles: int = 2, c_max: int = 16) -> StyleBank:
    """A StyleBank checkpoint in Lightning's layout (random weights stand in for a trained model)."""
    torch.manual_seed(3)
    base = StyleBank(loss_network=None, c_max=c_max, num_styles=num_styles)
    base.style_thumbnails.copy_(torch.rand_like(base.style_thumbnails))
    checkpoint = {
        "stylelab_method": "stylebank",
        "state_dict": base.state_dict(),
        "hyper_parameters": dict(base.hparams),
    }
    torch.save(checkpoint, path)
    return base


def test_incremental_training_freezes_encoder_decoder_and_old_banks(
    tmp_path: Path, make_datamodule, make_trainer
) -> None:
    base = save_base(tmp_path / "base.ckpt")
    base_state = {k: v.clone() for k, v in base.state_dict().items()}
    new = StyleBank(loss_network=None, c_max=16, lr=1e-2, base_checkpoint=str(tmp_path / "base.ckpt"))
    initial: dict[str, torch.Tensor] = {}

    class Snapshot(L.Callback):
        def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
            initial.update({k: v.clone() for k, v in pl_module.state_dict().items()})

    trainer = make_trainer(3, [Snapshot()])
    trainer.fit(new, datamodule=make_datamodule(styles=3, seed=7))

    assert list(new.recent_branches) == ["stylize"] * 3  # no auto-encoder step: E and D are frozen
    assert new.net.num_styles == 5 and new.first_trainable == 2
    assert new.style_names[:2] == base.style_names and len(new.style_names) == 5
    state = new.state_dict()
    for key, value in base_state.items():
        if key.startswith(("net.encoder.", "net.decoder.", "net.bank.banks.0.", "net.bank.banks.1.")):
            assert torch.equal(state[key], value), key  # bit for bit
    assert torch.equal(state["style_thumbnails"][:2], base_state["style_thumbnails"])
    key = "net.bank.banks.{}.weight".format
    moved = [i for i in range(2, 5) if not torch.equal(state[key(i)], initial[key(i)])]
    assert moved and set(new.last_style_index.tolist()) <= {2, 3, 4}  # only new banks are sampled
    assert new.criterion.style_encodings == 3  # Grams of the new styles only, once

    # the checkpoint holds old and new banks and rebuilds without the base checkpoint
    path = tmp_path / "incremental.ckpt"
    trainer.save_checkpoint(path)
    (tmp_path / "base.ckpt").unlink()
    loaded = load_method(path)
    assert isinstance(loaded, StyleBank) and loaded.net.num_styles == 5
    assert loaded.style_names == new.style_names
    content = torch.rand(1, 3, 24, 20)
    torch.testing.assert_close(loaded.stylize(content, styles=[4]), new.cpu().stylize(content, styles=[4]))


def test_incremental_rejects_another_architecture(tmp_path: Path) -> None:
    save_base(tmp_path / "base.ckpt", c_max=16)
    other = StyleBank(loss_network=None, c_max=32, base_checkpoint=str(tmp_path / "base.ckpt"))
    with pytest.raises(ValueError, match="c_max"):
        other.install_base_for_incremental(str(tmp_path / "base.ckpt"), [torch.rand(3, 8, 8)], ["new"])
    with pytest.raises(FileNotFoundError, match="nope.ckpt"):
        other.install_base_for_incremental(str(tmp_path / "nope.ckpt"), [torch.rand(3, 8, 8)], ["new"])
    same = StyleBank(loss_network=None, c_max=16)
    same.install_base_for_incremental(str(tmp_path / "base.ckpt"), [torch.rand(3, 8, 8)], ["new"])
    assert same.net.num_styles == 3 and not any(p.requires_grad for p in same.net.autoencoder_parameters())
