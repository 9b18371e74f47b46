"""The SK config and every ablation config parse through the real CLI and build the intended model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from stylelab.cli import run_lightning_cli
from stylelab.methods.stylekernel import StyleKernel

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


@pytest.mark.parametrize("name", ["sanet_cgm", "k5"])
def test_ablation_config_builds_and_runs_through_the_cli(name: str) -> None:
    cli = run_lightning_cli(
        ["--config", str(BASE), "--config", str(CONFIGS / "experiments" / "stylekernel" / f"{name}.yaml"),
         "--model.init_args.encoder_weights=null", "--trainer.logger=false"],
        run=False,
    )  # fmt: skip
    model = cli.model
    assert isinstance(model, StyleKernel)
    for key, value in EXPECTED[name].items():
        assert model.hparams[key] == value, key
    assert model.hparams.remd_weight == 3.0 and model.hparams.rec_pixel_weight == 20.0  # paper weights kept
    assert model.stylize(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)).shape == (1, 3, 32, 32)
