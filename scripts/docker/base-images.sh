#!/usr/bin/env bash
# Stand-in base images for a machine that reaches no image registry (node:*, postgres:*, redis:* and
# nvidia/cuda:* cannot be pulled): a Debian bookworm root made with debootstrap from the machine's
# own Debian mirror, and on top of it a Node image (the machine's node binary and npm, plus its CA
# bundle so that `npm ci` inside a build trusts the registry's certificate), a Postgres image
# (Debian's postgresql-15) and a Redis image (Debian's redis-server). They are for tests only and
# are passed to the builds through NODE_IMAGE / CUDA_IMAGE / POSTGRES_IMAGE / REDIS_IMAGE; the
# production Dockerfiles and compose files are not changed.
#
# Each image is tagged with a hash of its inputs and built only when that tag is missing; the
# debootstrap root is kept as a tarball in $GOAT_DOCKER_ROOT/cache, so a new engine data root
# imports it instead of bootstrapping again.
#   source scripts/docker/engine.sh && engine_start && source scripts/docker/base-images.sh && base_images_build
#   -> exports NODE_IMAGE, CUDA_IMAGE, POSTGRES_IMAGE, REDIS_IMAGE
set -euo pipefail
BASE_IMAGES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

base_images_log() { echo "[base-images] $*" >&2; }
base_images_hash() { sha256sum | cut -c1-16; }

# The first Debian mirror of the machine's apt sources (deb822 or one-line format).
base_images_mirror() {
  local uri
  uri="$(grep -h -E '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)"
  [ -n "$uri" ] || uri="$(grep -h -E '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' | grep debian | grep -v security | head -1 || true)"
  echo "${uri:-http://deb.debian.org/debian}"
}

base_images_exists() { engine_docker image inspect "$1" >/dev/null 2>&1; }

# docker build with a context made of the given files and a Dockerfile read from stdin.
base_images_docker_build() {
  local tag="$1"; shift
  local context; context="$(mktemp -d "$GOAT_DOCKER_ROOT/context.XXXXXX")"
  cat >"$context/Dockerfile"
  local file
  for file in "$@"; do cp -a "$file" "$context/"; done
  engine_docker build --quiet --tag "$tag" "$context" >/dev/null
  rm -rf "$context"
}

base_images_debian() {
  local mirror; mirror="$(base_images_mirror)"
  local packages="libstdc++6,ca-certificates"
  local key; key="$(printf 'bookworm minbase %s %s v1' "$mirror" "$packages" | base_images_hash)"
  DEBIAN_IMAGE="goat-standin/debian:bookworm-$key"
  if base_images_exists "$DEBIAN_IMAGE"; then return 0; fi
  local tarball="$GOAT_DOCKER_ROOT/cache/debian-bookworm-$key.tar"
  if [ ! -f "$tarball" ]; then
    base_images_log "debootstrap bookworm from $mirror (a few minutes)"
    local root; root="$(mktemp -d "$GOAT_DOCKER_ROOT/rootfs.XXXXXX")"
    debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror" >"$GOAT_DOCKER_ROOT/debootstrap.log" 2>&1 \
      || { tail -20 "$GOAT_DOCKER_ROOT/debootstrap.log" >&2; return 1; }
    # The machine's apt sources (the same mirror), so that the images above can apt-get install.
    printf 'deb %s bookworm main\n' "$mirror" >"$root/etc/apt/sources.list"
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    mkdir -p "$GOAT_DOCKER_ROOT/cache"
    tar -C "$root" -cf "$tarball.partial" . && mv "$tarball.partial" "$tarball"
    rm -rf "$root"
  fi
  base_images_log "importing $DEBIAN_IMAGE"
  engine_docker import "$tarball" "$DEBIAN_IMAGE" >/dev/null
}

base_images_node() {
  local node_bin; node_bin="$(readlink -f "$(command -v node)")"
  local npm_dir; npm_dir="$(readlink -f "$(dirname "$node_bin")/../lib/node_modules/npm")"
  local ca=/etc/ssl/certs/ca-certificates.crt
  local dockerfile
  dockerfile="$(cat <<DOCKERFILE
FROM $DEBIAN_IMAGE
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
# Stand-in only: the machine's CA bundle, so that npm trusts the certificate the registry is reached through.
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
DOCKERFILE
)"
  local key; key="$( { echo "$dockerfile"; sha256sum "$node_bin" "$ca"; cat "$npm_dir/package.json"; } | base_images_hash)"
  NODE_IMAGE="goat-standin/node:$("$node_bin" --version | tr -d v)-$key"
  if base_images_exists "$NODE_IMAGE"; then return 0; fi
  base_images_log "building $NODE_IMAGE"
  local staging; staging="$(mktemp -d "$GOAT_DOCKER_ROOT/staging.XXXXXX")"
  cp "$node_bin" "$staging/node"; cp -a "$npm_dir" "$staging/npm"; cp "$ca" "$staging/ca-certificates.crt"
  echo "$dockerfile" | base_images_docker_build "$NODE_IMAGE" "$staging/node" "$staging/npm" "$staging/ca-certificates.crt"
  rm -rf "$staging"
}

base_images_postgres() {
  local dockerfile
  dockerfile="$(cat <<DOCKERFILE
FROM $DEBIAN_IMAGE
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
ENV PATH=/usr/lib/postgresql/15/bin:\$PATH PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
USER postgres
EXPOSE 5432
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]
DOCKERFILE
)"
  local key; key="$( { echo "$dockerfile"; cat "$BASE_IMAGES_DIR/postgres-entrypoint.sh"; } | base_images_hash)"
  POSTGRES_IMAGE="goat-standin/postgres:15-$key"
  if base_images_exists "$POSTGRES_IMAGE"; then return 0; fi
  base_images_log "building $POSTGRES_IMAGE"
  echo "$dockerfile" | base_images_docker_build "$POSTGRES_IMAGE" "$BASE_IMAGES_DIR/postgres-entrypoint.sh"
}

base_images_redis() {
  local dockerfile
  dockerfile="$(cat <<DOCKERFILE
FROM $DEBIAN_IMAGE
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server redis-tools \
 && rm -rf /var/lib/apt/lists/* && mkdir -p /data && chown redis:redis /data
WORKDIR /data
USER redis
EXPOSE 6379
CMD ["redis-server", "--protected-mode", "no"]
DOCKERFILE
)"
  local key; key="$(echo "$dockerfile" | base_images_hash)"
  REDIS_IMAGE="goat-standin/redis:7-$key"
  if base_images_exists "$REDIS_IMAGE"; then return 0; fi
  base_images_log "building $REDIS_IMAGE"
  echo "$dockerfile" | base_images_docker_build "$REDIS_IMAGE"
}

base_images_build() {
  base_images_debian
  base_images_node
  base_images_postgres
  base_images_redis
  # The worker's runtime stage: Debian with libstdc++ (what the CPU worker needs of the CUDA base).
  CUDA_IMAGE="$DEBIAN_IMAGE"
  export NODE_IMAGE CUDA_IMAGE POSTGRES_IMAGE REDIS_IMAGE
  base_images_log "NODE_IMAGE=$NODE_IMAGE CUDA_IMAGE=$CUDA_IMAGE POSTGRES_IMAGE=$POSTGRES_IMAGE REDIS_IMAGE=$REDIS_IMAGE"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  source "$BASE_IMAGES_DIR/engine.sh"
  engine_start
  base_images_build
  printf 'export NODE_IMAGE=%s CUDA_IMAGE=%s POSTGRES_IMAGE=%s REDIS_IMAGE=%s\n' "$NODE_IMAGE" "$CUDA_IMAGE" "$POSTGRES_IMAGE" "$REDIS_IMAGE"
fi
