"""The SK config and every ablation config parse through the real CLI and build the intended model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from stylelab.cli import run_lightning_cli
from stylelab.methods.stylekernel import StyleKernel

from ..trainer_flags import QUIET_CPU_TRAINER

CONFIGS = Path(__file__).resolve().parents[3] / "configs"
BASE = CONFIGS / "stylekernel.yaml"
EXPECTED = {
    "no_cgm": {"cgm": False},
    "no_group_shuffle": {"group_shuffle": False},
    "k1": {"kernel_size": 1},
    "k3": {"kernel_size": 3},
    "k5": {"kernel_size": 5},
    "sanet_cgm": {"architecture": "sanet", "cgm": True},
    "sanet": {"architecture": "sanet", "cgm": False},
    "soft_gate": {"gate": "soft"},
    "paper_remd": {"remd_operands": "aligned"},
    "mean_std_style": {"style_loss": "mean_std"},
}


def test_every_ablation_config_is_covered() -> None:
    assert {p.stem for p in (CONFIGS / "experiments" / "stylekernel").glob("*.yaml")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_ablation_config_overrides_only_its_variant(name: str) -> None:
    base = yaml.safe_load(BASE.read_text())["model"]["init_args"]
    override = yaml.safe_load((CONFIGS / "experiments" / "stylekernel" / f"{name}.yaml").read_text())
    changed = override["model"]["init_args"]
    assert set(EXPECTED[name]) <= set(changed) <= set(base)  # only existing keys, the expected ones included
    for key, value in EXPECTED[name].items():
        assert changed[key] == value, key
    checkpoint = override["trainer"]["callbacks"][-1]["init_args"]["dirpath"]
    assert (
        checkpoint == f"outputs/stylekernel_{name}/checkpoints"
    )  # ablations never overwrite SK's checkpoints


#: tiny data and a random encoder, so that every ablation trains a few steps through the real CLI quickly
TINY = [
    *QUIET_CPU_TRAINER,
    "--trainer.max_steps=3",
    "--data.init_args.content=GeneratedTextures",
    "--data.init_args.content.init_args.count=4",
    "--data.init_args.content.init_args.size=40",
    "--data.init_args.style=GeneratedTextures",
    "--data.init_args.style.init_args.count=4",
    "--data.init_args.style.init_args.size=40",
    "--data.init_args.load_size=36",
    "--data.init_args.crop_size=32",
    "--data.init_args.batch_size=1",
    "--data.init_args.val_fraction=0",
    "--data.init_args.test_fraction=0",
    "--model.init_args.encoder_weights=null",
    "--model.init_args.remd_samples=16",
    "--model.init_args.disc_width=8",
]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_ablation_config_trains_through_the_cli(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`stylelab fit --config configs/stylekernel.yaml --config <ablation>` runs G, G, D (tiny data)."""
    monkeypatch.chdir(tmp_path)
    ablation = CONFIGS / "experiments" / "stylekernel" / f"{name}.yaml"
    cli = run_lightning_cli(["--config", str(BASE), "--config", str(ablation), *TINY], run=False)
    model = cli.model
    assert isinstance(model, StyleKernel)
    for key, value in EXPECTED[name].items():
        assert model.hparams[key] == value, key
    assert model.hparams.remd_weight == 3.0 and model.hparams.rec_pixel_weight == 20.0  # paper weights kept
    checkpoint = cli.trainer.checkpoint_callback
    assert checkpoint is not None and checkpoint.save_last
    assert Path(checkpoint.dirpath) == tmp_path / "outputs" / f"stylekernel_{name}" / "checkpoints"
    checkpoint.save_last = False  # writing ~200 MB per run is slow; test_model covers save and reload
    d_before = [p.detach().clone() for p in model.discriminator.parameters()]
    cli.trainer.fit(model, datamodule=cli.datamodule)
    assert int(model.generator_steps) == 2 and cli.trainer.global_step == 3  # G, G, then one D update
    assert any(not torch.equal(a, b) for a, b in zip(d_before, model.discriminator.parameters(), strict=True))
    out = model.stylize(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32))
    assert out.shape == (1, 3, 32, 32) and torch.isfinite(out).all()
