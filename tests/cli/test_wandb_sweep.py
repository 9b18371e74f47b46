"""One W&B sweep trial run the way ``wandb agent`` runs it, offline, then read back from the run's files."""

from __future__ import annotations

import json
import math
import os
import random
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image
from wandb.proto.wandb_internal_pb2 import Record

from stylelab.callbacks.grid import pair_grid

from .conftest import CONFIGS, FAST
from .test_sweeps import SWEEPS, agent_command

#: The tiny run appended after the sweep's values (a W&B trial needs its logger: FAST's is dropped).
TINY = [
    *(arg for arg in FAST if not arg.startswith("--trainer.logger")),
    "--trainer.max_steps=2",
    "--trainer.limit_train_batches=2",
    "--trainer.limit_val_batches=1",
    "--trainer.num_sanity_val_steps=0",
]
#: The W&B transaction log: a 7-byte file header, then LevelDB-log records in 32 KiB blocks
#: (4-byte checksum, 2-byte little-endian length, 1-byte type: 1 full, 2 first, 3 middle, 4 last).
BLOCK, RECORD_HEADER, ENDS = 32 * 1024, 7, (1, 4)


def sample(spec: dict, rng: random.Random) -> object:
    """One value of a sweep parameter, drawn as the sweep's ``random`` search would draw it.

    Raises:
        ValueError: A distribution this helper does not know (add it here when a sweep uses it).
    """
    if "value" in spec:
        return spec["value"]
    if "values" in spec:
        return rng.choice(spec["values"])
    low, high = spec["min"], spec["max"]
    kind = spec.get("distribution", "int_uniform" if isinstance(low, int) else "uniform")
    if kind == "uniform":
        return rng.uniform(low, high)
    if kind == "int_uniform":
        return rng.randint(low, high)
    if kind == "log_uniform_values":
        return math.exp(rng.uniform(math.log(low), math.log(high)))
    raise ValueError(f"distribution {kind!r} is not sampled by this test")


def records(path: Path) -> Iterator[Record]:
    """The protobuf records of an offline run's ``run-<id>.wandb`` file, in order."""
    data = path.read_bytes()
    assert data[:4] == b":W&B", f"{path} is not a W&B transaction log"
    position, pending = RECORD_HEADER, b""
    while position + RECORD_HEADER <= len(data):
        left = BLOCK - position % BLOCK
        length, kind = struct.unpack_from("<HB", data, position + 4)
        if left < RECORD_HEADER or kind == 0:  # block trailer / zero padding
            position += left
            continue
        pending += data[position + RECORD_HEADER : position + RECORD_HEADER + length]
        position += RECORD_HEADER + length
        if kind in ENDS:
            yield Record.FromString(pending)
            pending = b""


def _items(items: object) -> dict[str, object]:
    return {"/".join(item.nested_key) or item.key: json.loads(item.value_json) for item in items}


@pytest.mark.parametrize("sweep", SWEEPS, ids=lambda p: p.stem)
def test_every_sweep_parameter_can_be_sampled(sweep: Path) -> None:
    rng = random.Random(0)
    for name, spec in yaml.safe_load(sweep.read_text())["parameters"].items():
        for _ in range(20):
            value = sample(spec, rng)
            if "values" in spec:
                assert value in spec["values"], name
            elif "min" in spec:
                assert spec["min"] <= value <= spec["max"], name


def test_offline_trial_logs_the_objective_metrics_and_grid(tmp_path: Path) -> None:
    sweep = CONFIGS / "sweeps" / "adain.yaml"
    spec = yaml.safe_load(sweep.read_text())
    chosen = {name: sample(p, random.Random(1)) for name, p in spec["parameters"].items()}
    command = agent_command(spec["command"], chosen)
    (tmp_path / "configs").symlink_to(CONFIGS)  # the agent runs the command from the checkout
    script = Path(sys.executable).with_name("stylelab")
    program = [str(script)] if script.is_file() else [sys.executable, "-m", "stylelab"]
    env = {
        **os.environ,
        "WANDB_MODE": "offline",
        "WANDB_DIR": str(tmp_path),
        "WANDB_RUN_ID": "trial0",  # the agent names each run through this variable too
        "WANDB_CONFIG_DIR": str(tmp_path / "wandb-config"),
        "WANDB_CACHE_DIR": str(tmp_path / "wandb-cache"),
        "WANDB_DATA_DIR": str(tmp_path / "wandb-data"),
    }
    done = subprocess.run(
        [*program, *command[1:], *TINY], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]

    (run,) = tmp_path.rglob("offline-run-*-trial0")
    history: dict[str, object] = {}
    config: dict[str, object] = {}
    for record in records(run / "run-trial0.wandb"):
        kind = record.WhichOneof("record_type")
        if kind == "history":
            history.update(_items(record.history.item))
        elif kind == "config":
            config.update(_items(record.config.update))
    # the sweep's metric and the evaluation's metrics were logged, finite
    for name in (spec["metric"]["name"], "val/ssim", "val/style_gram", "val/content_mse", "val/loss"):
        assert isinstance(history.get(name), float) and math.isfinite(history[name]), name
    assert history[spec["metric"]["name"]] >= 0
    # the sampled model values reached the run's config (Lightning logs the model's hyperparameters)
    for name, value in chosen.items():
        if name.startswith("model."):
            assert config[name.split(".")[-1]] == pytest.approx(value), name
    # the content | style | output grid is an image of the run
    assert history["val/pairs/_type"] == "images/separated"
    (filename,) = history["val/pairs/filenames"]
    grid = np.asarray(Image.open(run / "files" / filename).convert("RGB"))
    assert grid.shape[:2] == (history["val/pairs/height"], history["val/pairs/width"])
    row = (torch.zeros(3, 8, 8),) * 3
    assert any(grid.shape[:2] == pair_grid([row] * n).shape[1:] for n in range(1, 9)), "not a pair grid"
    assert grid.std() > 10  # not a blank canvas
