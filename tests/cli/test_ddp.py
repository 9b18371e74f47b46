"""A 2-process CPU DDP fit through the real CLI (Lightning launches the second process itself)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import CONFIGS, FAST


def test_two_process_cpu_ddp_fit(tmp_path: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable, "-m", "stylelab", "fit", "--config", str(CONFIGS / "adain.yaml"), *FAST,
        "--trainer.strategy=ddp", "--trainer.devices=2", "--trainer.max_steps=2",
        "--trainer.limit_val_batches=0", "--trainer.callbacks=null",
        "--trainer.enable_checkpointing=false",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    assert "Initializing distributed: GLOBAL_RANK: 1, MEMBER: 2/2" in log
    assert "`Trainer.fit` stopped: `max_steps=2` reached." in log
