#!/usr/bin/env bash
# The whole test suite: `npm test`. Installs what is missing, starts Postgres and Redis if they are
# down, then type-checks, lints and runs the unit, integration, security and chaos tests against the real services.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install.sh
bash scripts/services.sh
bash scripts/system-packages.sh

echo "[test] typecheck"
npx tsc --noEmit -p tsconfig.json
npx tsc --noEmit -p worker/tsconfig.json
echo "[test] lint"
npx eslint --max-warnings 0 .
echo "[test] vitest"
if [ $# -gt 0 ]; then npx vitest run "$@"; exit; fi
npx vitest run --project unit --project integration --project security
echo "[test] chaos (kill -9, Redis and Postgres restarts against private instances)"
npx vitest run --project chaos
echo "[test] end-to-end (built web app, seed, worker, curl)"
npx vitest run --project e2e
