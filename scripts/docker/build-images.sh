#!/usr/bin/env bash
# Builds the images of docker-compose.yml on the private engine with the stand-in base images:
# the tools image (migrate), the web image and the CPU worker image (WORKER_ONNXRUNTIME=cpu).
# `--cuda-only` builds the default CUDA worker variant instead as far as this machine allows: its
# onnxruntime-node install step downloads the CUDA provider from NuGet, which no machine of this
# kind reaches, so that step is the one expected failure (reported, not fatal).
# Needs engine.sh's DOCKER_HOST and base-images.sh's *_IMAGE variables (scripts/docker/test.sh sets them).
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${DOCKER_HOST:?start the engine first: source scripts/docker/engine.sh && engine_start}"
: "${NODE_IMAGE:?build the stand-in base images first (scripts/docker/base-images.sh)}"
LOG_DIR="${GOAT_DOCKER_LOG_DIR:-$GOAT_DOCKER_ROOT/logs}"
mkdir -p "$LOG_DIR"
export WORKER_ONNXRUNTIME=cpu

timed() {
  local name="$1"; shift
  local start=$SECONDS
  if "$@" >"$LOG_DIR/build-$name.log" 2>&1; then
    echo "[build] $name: ok in $((SECONDS - start)) s (log: $LOG_DIR/build-$name.log)"
  else
    echo "[build] $name: FAILED after $((SECONDS - start)) s; last lines of $LOG_DIR/build-$name.log:" >&2
    tail -30 "$LOG_DIR/build-$name.log" >&2
    return 1
  fi
}

# .env.example gives the required settings their placeholder values; the variables exported here win.
compose() { docker-compose --env-file .env.example -f docker-compose.yml "$@"; }

if [ "${1:-}" != "--cuda-only" ]; then
  timed tools compose build migrate
  timed web compose build web
  timed worker-cpu compose build worker-1
else
  start=$SECONDS
  if /usr/bin/docker build -f worker/Dockerfile --build-arg NODE_IMAGE="$NODE_IMAGE" --build-arg CUDA_IMAGE="$CUDA_IMAGE" \
      --tag mls-goat-worker:cuda12-attempt . >"$LOG_DIR/build-worker-cuda12.log" 2>&1; then
    echo "[build] worker-cuda12: ok in $((SECONDS - start)) s (the CUDA provider was downloaded)"
  elif grep -q -E "ONNXRUNTIME_NODE_INSTALL|onnxruntime-node|nuget|Failed to download|ENOTFOUND|ECONNREFUSED" "$LOG_DIR/build-worker-cuda12.log"; then
    echo "[build] worker-cuda12: failed as expected at onnxruntime-node's CUDA download after $((SECONDS - start)) s ($(grep -m1 -i -E 'error|fail' "$LOG_DIR/build-worker-cuda12.log" | cut -c1-160))"
  else
    echo "[build] worker-cuda12: FAILED elsewhere than the CUDA download; see $LOG_DIR/build-worker-cuda12.log" >&2
    tail -30 "$LOG_DIR/build-worker-cuda12.log" >&2
    exit 1
  fi
fi
