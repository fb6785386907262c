#!/usr/bin/env bash
# One command from a fresh clone to a running platform with the demo task: `npm run demo`.
# Installs dependencies, starts Postgres and Redis if down, migrates, seeds the MNIST task `task2`
# (training the baseline model and submitting it), builds the web app, then runs the web app and one
# worker until Ctrl-C (a drained worker stops alone; the web app stays up). PORT (default 8000) and the variables in README.md "Configuration" apply.
set -euo pipefail
cd "$(dirname "$0")/.."
export PORT="${PORT:-8000}"
export DATABASE_URL="${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/goat}"
mkdir -p var/demo var/log
# Signed session cookies need a secret; keep one per checkout so sign-ins survive restarts.
[ -s var/demo/nextauth-secret ] || node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64url"))' > var/demo/nextauth-secret
export NEXTAUTH_SECRET="${NEXTAUTH_SECRET:-$(cat var/demo/nextauth-secret)}"
export NEXTAUTH_URL="${NEXTAUTH_URL:-http://localhost:$PORT}"
# The built web server runs in .next/standalone (its working directory): the folders it shares
# with the seed and the worker are named absolutely, where their defaults would be relative.
export DATA_DIR="${DATA_DIR:-$PWD/var/data}" STORAGE_DIR="${STORAGE_DIR:-$PWD/var/storage}" UPLOAD_TMP_DIR="${UPLOAD_TMP_DIR:-$PWD/var/tmp}"
# Logs for people here (pino-pretty); production and compose keep pino's JSON lines.
export LOG_FORMAT="${LOG_FORMAT:-pretty}"

bash scripts/install.sh
bash scripts/services.sh
npx tsx tools/ensure-database.ts
scripts/prisma migrate deploy
echo "[demo] seeding the demo task (dataset, accounts, baseline model)"
npm run --silent db:seed > var/demo/seed.json
echo "[demo] building the web app"
bash scripts/build-web.sh > var/log/build.log 2>&1 || { tail -50 var/log/build.log; exit 1; }

if node -e 'const s=require("net").connect(+process.argv[1],"127.0.0.1");s.on("connect",()=>process.exit(0));s.on("error",()=>process.exit(1))' "$PORT"; then
  echo "[demo] port $PORT is already in use; stop what runs there or choose another: PORT=8001 npm run demo" >&2
  exit 1
fi

# Stop the web app and the worker (and their children) with this script.
trap 'trap - EXIT; kill 0 2>/dev/null' EXIT INT TERM

HOSTNAME=0.0.0.0 node .next/standalone/web-server.mjs > var/log/web.log 2>&1 &
web=$!
# The worker runs apart from the web app: when an organiser drains it (or it stops for any other
# reason) the web app stays up and the demo says how to start another one.
worker_id="${WORKER_ID:-demo-worker-1}"
(
  code=0
  WORKER_ID="$worker_id" npm run --silent worker > var/log/worker-1.log 2>&1 || code=$?
  echo "[demo] worker $worker_id stopped (exit $code; drained by an organiser, or see var/log/worker-1.log)." >&2
  echo "[demo] the web app keeps running; start a worker in another terminal: WORKER_ID=demo-worker-2 DATABASE_URL=$DATABASE_URL npm run worker" >&2
) &

for _ in $(seq 1 60); do
  curl -fsS "http://localhost:$PORT/api/health" >/dev/null 2>&1 && break
  sleep 1
done
curl -fsS "http://localhost:$PORT/api/health" >/dev/null || { echo "[demo] the web app did not start; see var/log/web.log" >&2; tail -30 var/log/web.log; exit 1; }

node -e '
const s = require("./var/demo/credentials.json");
const port = process.env.PORT;
console.log(`
MLS-GOAT is running: http://localhost:${port}
  web log: var/log/web.log   worker log: var/log/worker-1.log

Demo logins
  admin        ${s.admin.email} / ${s.admin.password}
  participant  ${s.participant.email} / ${s.participant.password}  (team "${s.participant.team}", invite code ${s.participant.inviteCode})

Participant API token (shown once; also in var/demo/credentials.json):
  ${s.participant.token}

Try it (the baseline model is var/demo/baseline.onnx, accuracy ${s.baselineTestAccuracy} on the hidden set):
  TOKEN=${s.participant.token}
  curl -X POST http://localhost:${port}/submit/task2 -H "Authorization: Bearer $TOKEN" -F "file=@var/demo/baseline.onnx"
  curl http://localhost:${port}/submit/queue/status -H "Authorization: Bearer $TOKEN"
  curl http://localhost:${port}/submit/task2/status/1 -H "Authorization: Bearer $TOKEN"
  curl http://localhost:${port}/api/tasks/task2/leaderboard

Ctrl-C stops the web app and the worker.`);
'
# Only the web app ends the demo (Ctrl-C, or a crash); a stopped worker does not.
wait "$web"
