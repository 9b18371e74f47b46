"""Trainer overrides shared by the methods' CLI tests: CPU, no logger, no progress bar, no validation."""

from __future__ import annotations

#: A quiet CPU trainer that goes straight to training (append data/model overrides per test).
QUIET_CPU_TRAINER = [
    "--trainer.accelerator=cpu",
    "--trainer.logger=false",
    "--trainer.enable_progress_bar=false",
    "--trainer.enable_model_summary=false",
    "--trainer.limit_val_batches=0",
    "--trainer.num_sanity_val_steps=0",
]
