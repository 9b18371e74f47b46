"""W&B sweep files: every parameter is a real CLI key and reaches the model or datamodule; every sweep
logs to W&B and minimises the documented objective of :class:`stylelab.callbacks.StyleEvaluation`."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from lightning.pytorch.loggers import WandbLogger

from stylelab.callbacks import StyleEvaluation
from stylelab.cli import run_lightning_cli

from .conftest import CONFIGS

SWEEPS = sorted((CONFIGS / "sweeps").glob("*.yaml"))
LOGGER_CONFIG = "configs/loggers/wandb.yaml"


def agent_command(command: list[str], values: dict[str, object]) -> list[str]:
    """``command`` with ``${args}`` expanded the way ``wandb agent`` does: one ``--key=value`` per parameter.

    The agent formats each value with ``str`` (``True``, ``[10, 20]``), which the CLI parses as YAML.
    """
    at = command.index("${args}")
    return [*command[:at], *(f"--{name}={value}" for name, value in values.items()), *command[at + 1 :]]


def header(sweep: Path) -> str:
    """The comment block at the top of a sweep file."""
    lines = sweep.read_text().splitlines()
    return "\n".join(line for line in lines[: next(i for i, s in enumerate(lines) if not s.startswith("#"))])


def _pick(spec: dict) -> object:
    if "values" in spec:
        return spec["values"][-1]
    if "value" in spec:
        return spec["value"]
    return spec.get("max", spec.get("min"))


@pytest.mark.parametrize("sweep", SWEEPS, ids=lambda p: p.stem)
def test_sweep_parameters_reach_the_objects(
    sweep: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WANDB_MODE", "disabled")
    (tmp_path / "configs").symlink_to(CONFIGS)  # the agent runs the command from the checkout
    monkeypatch.chdir(tmp_path)
    spec = yaml.safe_load(sweep.read_text())
    command = spec["command"]
    assert command[:2] == ["stylelab", "fit"] and "${args}" in command
    assert command.index("--config") < command.index("${args}"), "sweep values must come after --config"
    assert command[command.index(LOGGER_CONFIG) - 1] == "--config", "the trial must log to W&B"
    chosen = {name: _pick(p) for name, p in spec["parameters"].items()}
    cli = run_lightning_cli(agent_command(command, chosen)[2:], run=False)
    for name, value in chosen.items():
        section, _, key = name.split(".", 2)
        leaf = key.split(".")[-1]
        if section == "model":
            got = cli.model.hparams[leaf]
        else:  # the datamodule keeps sizes in its transforms
            dm = cli.datamodule
            got = getattr(dm, leaf, None) if hasattr(dm, leaf) else getattr(dm.train_transform, leaf)
        assert got == pytest.approx(value), name
    assert isinstance(cli.trainer.logger, WandbLogger)
    logger = cli.config.trainer.logger.init_args
    assert logger.project == "stylelab" and logger.log_model is False and logger.name is None


@pytest.mark.parametrize("sweep", SWEEPS, ids=lambda p: p.stem)
def test_sweep_minimises_the_documented_objective(
    sweep: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WANDB_MODE", "disabled")
    (tmp_path / "configs").symlink_to(CONFIGS)
    monkeypatch.chdir(tmp_path)
    spec = yaml.safe_load(sweep.read_text())
    cli = run_lightning_cli(agent_command(spec["command"], {})[2:], run=False)
    (evaluation,) = [c for c in cli.trainer.callbacks if isinstance(c, StyleEvaluation)]
    assert spec["metric"] == {"name": f"val/{evaluation.objective}", "goal": "minimize"}
    # the header states the formula with the constants the callback really uses
    objective = evaluation.sweep_objective
    text = header(sweep)
    assert f"{objective.penalty:g} * max(0, {objective.ssim_floor:g} - SSIM(output, content))" in text
    assert spec["metric"]["name"] in text and LOGGER_CONFIG in text
