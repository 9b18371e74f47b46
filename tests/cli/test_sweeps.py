"""W&B sweep files: every parameter is a real CLI key and reaches the model or datamodule."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stylelab.cli import run_lightning_cli

from .conftest import CONFIGS

SWEEPS = sorted((CONFIGS / "sweeps").glob("*.yaml"))


def _pick(spec: dict) -> object:
    if "values" in spec:
        return spec["values"][-1]
    if "value" in spec:
        return spec["value"]
    return spec.get("max", spec.get("min"))


@pytest.mark.parametrize("sweep", SWEEPS, ids=lambda p: p.stem)
def test_sweep_parameters_reach_the_objects(sweep: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_MODE", "disabled")
    spec = yaml.safe_load(sweep.read_text())
    command = spec["command"]
    assert command[:2] == ["stylelab", "fit"] and command[-1] == "${args}"
    assert command.index("--config") < command.index("${args}"), "sweep values must come after --config"
    config = CONFIGS.parent / command[command.index("--config") + 1]
    chosen = {name: _pick(p) for name, p in spec["parameters"].items()}
    args = [f"--{name}={value}" for name, value in chosen.items()]  # how `wandb agent` expands ${args}
    cli = run_lightning_cli(["--config", str(config), *args, "--trainer.logger=false"], run=False)
    for name, value in chosen.items():
        section, _, key = name.split(".", 2)
        leaf = key.split(".")[-1]
        if section == "model":
            got = cli.model.hparams[leaf]
        else:  # the datamodule keeps sizes in its transforms
            dm = cli.datamodule
            got = getattr(dm, leaf, None) if hasattr(dm, leaf) else getattr(dm.train_transform, leaf)
        assert got == pytest.approx(value), name
