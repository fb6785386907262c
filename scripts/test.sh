#!/usr/bin/env bash
# The whole test suite: `npm test`. Installs what is missing, starts Postgres and Redis if they are
# down, then type-checks, lints and runs the unit, integration, security, chaos and end-to-end tests against the
# real services, and checks that the evaluation benchmark still runs.
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
echo "[test] the evaluation benchmark starts and finishes (one repetition of its (a); its figures are not checked)"
bench_log="$(mktemp)"
if ! BENCH_REPS=1 BENCH_IDLE_RUNS=0 BENCH_BURST_RUNS=0 npm run --silent bench > "$bench_log" 2>&1 || ! grep -q "^(a) one evaluation" "$bench_log"; then
  tail -n 40 "$bench_log" >&2
  echo "[test] npm run bench failed, or printed no table" >&2
  exit 1
fi
rm -f "$bench_log"
