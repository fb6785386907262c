#!/usr/bin/env bash
# `npm run test:docker`: the Docker deployment, run for real on this machine (docs/deployment.md,
# "What ran here"). Starts a private Docker engine (scripts/docker/engine.sh), builds the stand-in
# base images once (base-images.sh, cached), builds the images of docker-compose.yml (build-images.sh,
# CPU worker), runs the stack and its checks (tests/docker/stack.ts), then tries the CUDA worker
# build (expected to stop at its NuGet download), and stops the engine.
#   --build-only   stop after the image builds (what .ci/run runs)
#   --no-cuda      skip the CUDA worker build attempt
# GOAT_DOCKER_KEEP_ENGINE=1 leaves the engine running afterwards (images stay cached either way).
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$SECONDS
build_only=0 cuda=1
for arg in "$@"; do
  case "$arg" in
    --build-only) build_only=1 ;;
    --no-cuda) cuda=0 ;;
    *) echo "usage: $0 [--build-only] [--no-cuda]" >&2; exit 2 ;;
  esac
done

source scripts/docker/engine.sh
engine_start
[ "${GOAT_DOCKER_KEEP_ENGINE:-0}" = 1 ] || trap engine_stop EXIT
phase=$SECONDS
source scripts/docker/base-images.sh
base_images_build
echo "[docker-test] stand-in base images ready in $((SECONDS - phase)) s"
phase=$SECONDS
bash scripts/docker/build-images.sh
echo "[docker-test] images built in $((SECONDS - phase)) s"
if [ $build_only = 0 ]; then
  phase=$SECONDS
  npx tsx tests/docker/stack.ts
  echo "[docker-test] stack checks in $((SECONDS - phase)) s"
fi
if [ $cuda = 1 ] && [ $build_only = 0 ]; then
  bash scripts/docker/build-images.sh --cuda-only
fi
echo "[docker-test] total $((SECONDS - started)) s"
