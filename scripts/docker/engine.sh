#!/usr/bin/env bash
# A private Docker engine for the Docker tests (`npm run test:docker`): its own data root, exec root,
# pid file, unix socket and bridge, so it never touches another Docker daemon on the machine.
#   source scripts/docker/engine.sh && engine_start   # exports DOCKER_HOST
#   engine_stop                                       # stops it by its pid
# Installs Debian's docker.io, docker-compose (v1) and debootstrap when they are missing.
# GOAT_DOCKER_ROOT (default /var/tmp/goat-docker) holds everything, including the image cache.

export GOAT_DOCKER_ROOT="${GOAT_DOCKER_ROOT:-/var/tmp/goat-docker}"
GOAT_DOCKER_SOCKET="$GOAT_DOCKER_ROOT/docker.sock"
GOAT_DOCKER_PIDFILE="$GOAT_DOCKER_ROOT/dockerd.pid"
# A bridge of our own (15 characters at most): docker0 may belong to another engine.
GOAT_DOCKER_BRIDGE="${GOAT_DOCKER_BRIDGE:-goatdock0}"
GOAT_DOCKER_BRIDGE_CIDR="${GOAT_DOCKER_BRIDGE_CIDR:-172.30.250.1/24}"
# The host's address on that bridge: containers reach ports published there (tests/docker/stack.ts).
export GOAT_DOCKER_HOST_ADDRESS="${GOAT_DOCKER_BRIDGE_CIDR%/*}"

engine_log() { echo "[docker] $*" >&2; }

engine_install() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  if [ ${#missing[@]} -gt 0 ]; then
    engine_log "installing ${missing[*]}"
    apt-get install -y -q "${missing[@]}" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
  fi
}

# Debian's client (20.10) matches Debian's engine; a newer client elsewhere on PATH would want buildx.
engine_docker() { /usr/bin/docker "$@"; }

# The one mock: no NVIDIA GPU here. Docker registers its "nvidia" device driver when
# nvidia-container-runtime-hook is on the engine's PATH (moby daemon/nvidia_linux.go) and runs it
# before each container that reserves a GPU. This stand-in does nothing, so the compose files'
# GPU reservations are accepted unchanged (the container gets NVIDIA_VISIBLE_DEVICES, no device).
engine_gpu_stub() {
  mkdir -p "$GOAT_DOCKER_ROOT/bin"
  printf '#!/bin/sh\n# Stand-in NVIDIA hook for the Docker tests (scripts/docker/engine.sh): no GPU here.\ncat >/dev/null\nexit 0\n' \
    >"$GOAT_DOCKER_ROOT/bin/nvidia-container-runtime-hook"
  chmod +x "$GOAT_DOCKER_ROOT/bin/nvidia-container-runtime-hook"
}

engine_running() {
  [ -f "$GOAT_DOCKER_PIDFILE" ] && kill -0 "$(cat "$GOAT_DOCKER_PIDFILE")" 2>/dev/null
}

engine_start() {
  engine_install
  mkdir -p "$GOAT_DOCKER_ROOT/data" "$GOAT_DOCKER_ROOT/exec"
  export DOCKER_HOST="unix://$GOAT_DOCKER_SOCKET"
  # The legacy builder: BuildKit would pull the `# syntax=` frontend image, and no registry is reachable.
  export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0
  if engine_running; then engine_log "engine already running (pid $(cat "$GOAT_DOCKER_PIDFILE"))"; return 0; fi
  if ! ip link show "$GOAT_DOCKER_BRIDGE" >/dev/null 2>&1; then
    ip link add "$GOAT_DOCKER_BRIDGE" type bridge
    ip addr add "$GOAT_DOCKER_BRIDGE_CIDR" dev "$GOAT_DOCKER_BRIDGE"
  fi
  ip link set "$GOAT_DOCKER_BRIDGE" up
  engine_gpu_stub
  engine_log "starting dockerd on $GOAT_DOCKER_SOCKET (log: $GOAT_DOCKER_ROOT/dockerd.log)"
  PATH="$GOAT_DOCKER_ROOT/bin:$PATH" setsid dockerd \
    --data-root "$GOAT_DOCKER_ROOT/data" \
    --exec-root "$GOAT_DOCKER_ROOT/exec" \
    --pidfile "$GOAT_DOCKER_PIDFILE" \
    --host "unix://$GOAT_DOCKER_SOCKET" \
    --bridge "$GOAT_DOCKER_BRIDGE" \
    --default-address-pool "base=172.29.0.0/16,size=24" \
    >"$GOAT_DOCKER_ROOT/dockerd.log" 2>&1 </dev/null &
  local deadline=$((SECONDS + 60))
  until engine_docker info >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then engine_log "dockerd did not answer in 60 s"; tail -20 "$GOAT_DOCKER_ROOT/dockerd.log" >&2; return 1; fi
    sleep 0.5
  done
  engine_log "engine up: $(engine_docker version --format '{{.Server.Version}}')"
}

engine_stop() {
  if ! engine_running; then return 0; fi
  local pid; pid="$(cat "$GOAT_DOCKER_PIDFILE")"
  engine_log "stopping dockerd (pid $pid)"
  kill -TERM "$pid"
  local deadline=$((SECONDS + 60))
  while kill -0 "$pid" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then kill -KILL "$pid"; break; fi
    sleep 0.5
  done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    start) engine_start; echo "export DOCKER_HOST=$DOCKER_HOST DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0" ;;
    stop) engine_stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
  esac
fi
