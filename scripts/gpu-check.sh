#!/usr/bin/env bash
# The GPU check (scripts/gpu-check.ts): run it on the GPU server before the event, from a checkout
# with `npm ci` done. Exit 3 means no NVIDIA GPU was found (nothing GPU-related checked).
#   bash scripts/gpu-check.sh            # all checks (needs nvidia-smi and a GPU)
#   bash scripts/gpu-check.sh --dry-run  # the parts that need no GPU
set -euo pipefail
cd "$(dirname "$0")/.."
exec npx tsx scripts/gpu-check.ts "$@"
