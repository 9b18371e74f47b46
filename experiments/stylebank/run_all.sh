#!/usr/bin/env bash
# Regenerate every StyleBank report (reports/stylebank/*.md) with the CPU budgets used for the committed
# reports. Needs the shared data:  STYLELAB_SHARED_DATA=../shared/data STYLELAB_WEIGHTS=../shared/data/weights
# Budget options (each script): --steps N --crop S --batch B; runs are cached per budget in
# outputs/stylebank_experiments/<run>_s<steps>/.
#   STEPS: Fig. 6 (reconstruction) and kernel-size runs (committed reports: 90)
#   INCREMENTAL_STEPS: Fig. 8, the base auto-encoder and both new-style runs (committed report: 1000)
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
STEPS=${STEPS:-90}
INCREMENTAL_STEPS=${INCREMENTAL_STEPS:-1000}
CROP=${CROP:-64}
$PY experiments/stylebank/inference_time.py
$PY experiments/stylebank/reconstruction.py --steps "$STEPS" --crop "$CROP"
$PY experiments/stylebank/kernel_size.py --steps "$STEPS" --crop "$CROP"
$PY experiments/stylebank/incremental.py --steps "$INCREMENTAL_STEPS" --base-steps "$INCREMENTAL_STEPS" --crop "$CROP"
