#!/usr/bin/env bash
# Train the knowledge-transfer decoder for a CPU budget on the shared photos and artworks.
# Output: outputs/knowledge/cpu_budget/checkpoints/last.ckpt (used by experiments/knowledge/figures.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${STYLELAB_SHARED_DATA:?set STYLELAB_SHARED_DATA to the shared data folder}"
export STYLELAB_WEIGHTS="${STYLELAB_WEIGHTS:-$STYLELAB_SHARED_DATA/weights}"
.venv/bin/stylelab fit --config configs/knowledge.yaml --config configs/data/folders.yaml \
  --config configs/experiments/knowledge/cpu_budget.yaml \
  --data.init_args.content.init_args.root="$STYLELAB_SHARED_DATA/images/content" \
  --data.init_args.style.init_args.root="$STYLELAB_SHARED_DATA/images/style" "$@"
