#!/usr/bin/env bash
# Installs the npm dependencies (when missing or stale) and generates the Prisma client.
# Offline-safe: no install script downloads anything (see "allowScripts" in package.json and docs/architecture.md, "Constraints found by trying").
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[install] npm ci"
  npm ci --no-audit --no-fund
fi
if [ ! -f contracts/prisma/generated/client.ts ] || [ contracts/prisma/schema.prisma -nt contracts/prisma/generated/client.ts ]; then
  echo "[install] prisma generate"
  scripts/prisma generate >/dev/null
fi
