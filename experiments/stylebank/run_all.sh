#!/usr/bin/env bash
# Regenerate every StyleBank report (reports/stylebank/*.md) with the CPU budget used for the committed
# reports. Needs the shared data:  STYLELAB_SHARED_DATA=../shared/data STYLELAB_WEIGHTS=../shared/data/weights
# Budget options (each script): --steps N --crop S --batch B; cached runs live in outputs/stylebank_experiments/.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
STEPS=${STEPS:-90}
CROP=${CROP:-64}
$PY experiments/stylebank/inference_time.py
$PY experiments/stylebank/reconstruction.py --steps "$STEPS" --crop "$CROP"
$PY experiments/stylebank/kernel_size.py --steps "$STEPS" --crop "$CROP"
$PY experiments/stylebank/incremental.py --steps "$STEPS" --crop "$CROP"
