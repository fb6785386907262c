#!/usr/bin/env bash
# The whole test suite: `npm test`. Installs what is missing, starts Postgres and Redis if they are
# down, then type-checks, lints and runs the unit, integration, security, chaos and end-to-end tests against the
# real services, and checks that every benchmark still runs.
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
chaos_report="$(mktemp)"
CHAOS_REPORT="$chaos_report" npx vitest run --project chaos
echo "[test] end-to-end (built web app, seed, worker, curl)"
npx vitest run --project e2e

# Every benchmark runs to its end and prints its table, on small inputs (its figures are not
# checked): a benchmark that no longer starts, fails or never exits fails the suite.
smoke_bench() {
  local expected="$1" script="$2"
  shift 2
  local log
  log="$(mktemp)"
  if ! env "$@" timeout 600 npm run --silent "$script" > "$log" 2>&1 || ! grep -q "$expected" "$log"; then
    tail -n 40 "$log" >&2
    echo "[test] npm run $script failed, did not finish within 10 minutes, or printed no table" >&2
    exit 1
  fi
  rm -f "$log"
}
echo "[test] the benchmarks start and finish (small inputs; their figures are not checked)"
smoke_bench "^(a) one evaluation" bench BENCH_REPS=1 BENCH_IDLE_RUNS=0 BENCH_BURST_RUNS=0
# The web app the end-to-end tests just built, where there is one (else bench:load builds it).
app_dir=()
[ -f .next/standalone/web-server.mjs ] && app_dir=(BENCH_APP_DIR=.next/standalone)
smoke_bench "^| API, default page" bench:load "${app_dir[@]}" BENCH_TEAMS=20 BENCH_PER_TEAM=3 BENCH_RUNS=1 BENCH_SECONDS=1 BENCH_STREAMS=20
smoke_bench "^| fair (priority" bench:queue BENCH_JOBS=4
smoke_bench "^| all uploads done" bench:intake BENCH_REPS=1 BENCH_UPLOAD_MB=4 BENCH_JUNK_UPLOADS=2
smoke_bench "^| spawn to ready" bench:worker-start BENCH_RUNS=1 BENCH_SETTLE_MS=500
smoke_bench "^| App Router route handler" bench:next-floor BENCH_RUNS=1 BENCH_SECONDS=1
# The recovery table of the chaos run above (no second run).
smoke_bench "^| kill -9 of a worker" bench:recovery BENCH_REPS=0 CHAOS_REPORT="$chaos_report"
rm -f "$chaos_report"
