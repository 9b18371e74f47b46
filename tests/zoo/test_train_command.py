"""``stylelab zoo train``: one command fits (resuming), exports, measures and records an entry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import stylelab.zoo.catalogue as catalogue
from stylelab.backbones.weights import sha256_of
from stylelab.zoo.catalogue import get_entry
from stylelab.zoo.checkpoint import load_zoo_checkpoint
from stylelab.zoo.commands import train_entry

TINY = """
seed_everything: 0
trainer:
  max_steps: 2
  default_root_dir: outputs/zoo/adain
  logger: false
  enable_progress_bar: false
  callbacks:
    - class_path: lightning.pytorch.callbacks.ModelCheckpoint
      init_args: {dirpath: outputs/zoo/adain/checkpoints, save_last: true, every_n_train_steps: 1}
model:
  class_path: AdaIN
  init_args: {encoder_weights: vgg19_normalised_r31, layer: relu3_1, decoder: pretrained_r31}
data:
  class_path: StyleTransferDataModule
  init_args: {load_size: 64, crop_size: 32, batch_size: 2, samples_per_epoch: 4, val_fraction: 0.0,
              test_fraction: 0.0, num_val_pairs: 0, eval_size: 32}
"""


def test_train_exports_records_and_resumes(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(catalogue, "ZOO_DIR", tmp_path / "weights")
    (tmp_path / "weights").mkdir()
    (tmp_path / "configs" / "zoo").mkdir(parents=True)
    (tmp_path / "configs" / "zoo" / "adain.yaml").write_text(TINY)
    entry = get_entry("adain")
    floor = {"photos": 1, "paintings": 1, "longer": 128}
    train_entry(entry, [], floor=floor)
    record = json.loads(entry.record_file.read_text())
    manifest = json.loads((tmp_path / "weights" / "MANIFEST.json").read_text())
    assert manifest["adain"]["sha256"] == sha256_of(entry.file)
    assert record["global_step"] == 2 and len(record["runs"]) == 1 and record["floor"]["pairs"] == 1
    assert set(record["floor"]) >= {"ssim_mean", "style_ratio_mean", "passes", "variant"}
    assert record["exported"]["bytes"] == entry.file.stat().st_size < 8 * 2**20
    fitted = torch.load(tmp_path / "outputs/zoo/adain/final.ckpt", weights_only=True)["state_dict"]
    loaded = load_zoo_checkpoint(
        entry.file,
    )
    key = "net.decoder.net.0.weight"
    assert torch.allclose(loaded.state_dict()[key], fitted[key], atol=1e-3)  # float16 storage
    # a second call resumes from the last checkpoint: no new steps (max_steps reached), a second ledger entry
    train_entry(entry, [], floor=floor)
    record = json.loads(entry.record_file.read_text())
    assert len(record["runs"]) == 2 and record["global_step"] == 2
    assert "--ckpt_path" in record["runs"][1]["argv"]
