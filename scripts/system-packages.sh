#!/usr/bin/env bash
# Debian packages the tests need that a fresh machine of this kind lacks: Chromium for the browser
# tests (Playwright drives it; never `npx playwright install`, which downloads) and docker-compose
# (v1, Debian's package) to validate docker-compose.yml without a Docker engine.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
if [ ${#missing[@]} -gt 0 ]; then
  echo "[system] installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
