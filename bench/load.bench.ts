// Leaderboard load at event scale: `npm run bench:load`. Seeds its own database with TEAMS teams x
// PER_TEAM scored submissions on one task (results stored the way the worker does, so Postgres
// fills the maintained board the real way; each later result is written by the worker's own
// storeResult), starts the built web app (web-server.mjs in the standalone folder, as the Docker
// image runs it; `npm run build` first unless BENCH_APP_DIR says otherwise), then measures with
// autocannon: the leaderboard API's default page at 200 connections (also through Next's own
// server.js of the same build, which has no early answer, for comparison; gzipped; from an anonymous
// browser holding another cookie; signed in with a session cookie and with an API token), the full board
// (pageSize=1000) at 50, the leaderboard page at 50 (anonymous and signed in); and STREAMS open
// leaderboard streams receiving a new score (delay to the last one, and the server's memory per
// open stream). Each load figure is RUNS runs of SECONDS s: min / median / max. The load generator
// runs on the same machine as the server and the database (say so when quoting the figures).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { createIsolatedEnvironment } from "../tests/support/isolated-environment";
import { freePort, load as loadRuns, loadRow, LOAD_TABLE_HEADER, spread, startBareServer, type LoadFigures } from "./support/http-load";
import { currentCommit } from "./support/report";

const TEAMS = Number(process.env.BENCH_TEAMS ?? 1_000);
const PER_TEAM = Number(process.env.BENCH_PER_TEAM ?? 50);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const STREAMS = Number(process.env.BENCH_STREAMS ?? 1_000);
/** What a browser's Accept says when it loads a page (Chromium's). */
const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";
const ROOT = path.resolve(import.meta.dirname, "..");

// One machine stands in for a crowd of clients: the per-IP limits on polling and open streams (which
// would answer most of this load 429 from one address) are raised for the run.
const environment = await createIsolatedEnvironment("bench_load", {
  NODE_ENV: "production",
  NEXT_TELEMETRY_DISABLED: "1",
  RATE_LIMIT_POLLS_PER_IP: "100000000",
  RATE_LIMIT_EVENT_STREAMS_PER_IP: String(STREAMS + 100),
});
const workDir = environment.root;

const load = (url: string, connections: number, serverPid: number, headers: Record<string, string> = {}): Promise<LoadFigures> =>
  loadRuns(url, connections, serverPid, RUNS, SECONDS, headers);

// ---- seed, through the app's own functions and the worker's way of storing a result ----

async function seed() {
  const { db } = await import("../lib/db");
  const { createUser, createTeam } = await import("../lib/accounts/users");
  const { createTask } = await import("../lib/tasks/admin");
  const task = await createTask({
    slug: "bench-task",
    title: "Leaderboard load",
    kind: "CLASSIFICATION",
    inputSpec: [{ name: "input", dtype: "float32", shape: [-1, 4] }],
    outputSpec: [{ name: "output", dtype: "float32", shape: [-1, 3] }],
    rankMetric: "accuracy",
    splitSeed: 1,
  });
  const user = await createUser({ email: "bench@bench.local", name: "Bench", password: "bench-password-1" });
  const teamIds: number[] = [];
  for (let i = 0; i < TEAMS; i++) teamIds.push((await createTeam(`Team ${String(i).padStart(4, "0")} ${randomBytes(2).toString("hex")}`)).id);

  let state = 42;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const start = Date.now() - 7 * 24 * 3600_000;
  const seeded = performance.now();
  // One team's submissions per transaction, stored the way worker/src/evaluate-submission.ts
  // stores a result (RUNNING -> SCORED, then the result rows): the triggers maintain the board.
  for (const teamId of teamIds) {
    const rows = Array.from({ length: PER_TEAM }, (_, i) => ({
      taskId: task.id,
      teamId,
      userId: user.id,
      fileName: "model.onnx",
      sha256: "ab".repeat(32),
      sizeBytes: 1000,
      storageKey: `bench/${teamId}/${i}.onnx`,
      paramCount: 1000,
      status: "RUNNING" as const,
      createdAt: new Date(start + random() * 7 * 24 * 3600_000),
    }));
    const created = await db.submission.createManyAndReturn({ data: rows, select: { id: true } });
    const ids = created.map((row) => row.id);
    await db.$transaction(async (tx) => {
      await tx.submission.updateMany({ where: { id: { in: ids } }, data: { status: "SCORED", finishedAt: new Date() } });
      await tx.result.createMany({
        data: ids.map((submissionId) => {
          const score = Math.round(random() * 10_000) / 10_000;
          return { submissionId, publicMetrics: { accuracy: score }, privateMetrics: { accuracy: score }, publicScore: score, privateScore: score, latencyP50Ms: 1, latencyP95Ms: 1, modelBytes: 1000, paramCount: 1000, receipt: {} };
        }),
      });
    });
  }
  const seedSeconds = (performance.now() - seeded) / 1000;
  // What autovacuum does within a minute of such a bulk load: without statistics for the 50,000 new
  // rows the planner reads a whole table where an index serves (every figure below would measure that).
  await db.$executeRawUnsafe("ANALYZE");

  // Reading the board: the maintained table (what the app does) beside the scan of every result
  // that it replaced (the ranking before issue 11), on the same data.
  const { leaderboardForTask } = await import("../lib/leaderboard/board");
  const maintainedMs: number[] = [];
  const scanMs: number[] = [];
  for (let i = 0; i < 5; i++) {
    let started = performance.now();
    await leaderboardForTask(task.slug, "public");
    maintainedMs.push(performance.now() - started);
    started = performance.now();
    await db.$queryRaw`
      SELECT * FROM (
        SELECT DISTINCT ON (s.team_id) s.team_id, t.name, r.public_score AS score, s.id, s.created_at, COUNT(*) OVER (PARTITION BY s.team_id) AS submission_count
        FROM submissions s JOIN results r ON r.submission_id = s.id JOIN teams t ON t.id = s.team_id
        WHERE s.task_id = ${task.id} AND s.status IN ('SCORED', 'QUEUED', 'RUNNING') AND NOT s.is_reference
        ORDER BY s.team_id, r.public_score DESC, s.created_at ASC, s.id ASC
      ) best ORDER BY best.score DESC, best.created_at ASC, best.id ASC`;
    scanMs.push(performance.now() - started);
  }

  /** One more result, stored by the worker's own write (storeResult); returns its submission id and the write's ms. */
  const { storeResult } = await import("../worker/src/evaluate-submission");
  const { scoreSplit, encodeSplitOutcomes } = await import("../worker/src/metrics/index");
  const { scoringSettingsOf } = await import("@goat/contracts/scoring-version");
  const taskRow = await db.task.findUniqueOrThrow({ where: { id: task.id } });
  const scoring = { ...scoringSettingsOf(taskRow), version: taskRow.scoringVersion };
  // 200 test rows of 3 classes, half public, half private: real outcomes for the stored row outcomes.
  const labels = Array.from({ length: 200 }, (_, i) => i % 3);
  const outputs = Float32Array.from({ length: 600 }, (_, i) => (i % 3 === labels[Math.floor(i / 3)] ? 1 : 0));
  const split = (from: number) => scoreSplit({ kind: "CLASSIFICATION", metrics: ["accuracy"], outputs, outputWidth: 3, labels, rows: Array.from({ length: 100 }, (_, i) => from + i) });
  const [publicSplit, privateSplit] = [split(0), split(100)];
  const storeOne = async (teamId: number, score: number) => {
    const { id } = await db.submission.create({
      data: { taskId: task.id, teamId, userId: user.id, fileName: "model.onnx", sha256: "ab".repeat(32), sizeBytes: 1000, storageKey: `bench/${randomBytes(4).toString("hex")}`, paramCount: 1000, status: "RUNNING" },
    });
    const started = performance.now();
    const stored = await storeResult(db, id, {
      taskId: task.id,
      scoring,
      publicMetrics: { accuracy: score },
      privateMetrics: { accuracy: score },
      publicScore: score,
      privateScore: score,
      publicInterval: { low: score - 0.01, high: score + 0.01 },
      privateInterval: { low: score - 0.01, high: score + 0.01 },
      rowOutcomes: [
        { split: "PUBLIC", rows: 100, data: encodeSplitOutcomes(publicSplit.outcomes) },
        { split: "PRIVATE", rows: 100, data: encodeSplitOutcomes(privateSplit.outcomes) },
      ],
      latencyP50Ms: 1,
      latencyP95Ms: 1,
      modelBytes: 1000,
      paramCount: 1000n,
      peakMemoryBytes: 1n,
      peakGpuMemoryBytes: null,
      receipt: { modelSha256: "ab".repeat(32), onnxruntimeVersion: "bench", executionProvider: "cpu", device: "cpu", workerId: "bench-load", batchSize: 256, rows: 200, datasetVersion: null, timings: { totalMs: 1, sessionMs: 0, inferenceMs: 0, sandboxWaitMs: 0 } },
      totalMs: 1,
    });
    if (stored !== "stored") throw new Error(`the bench result was not stored: ${stored}`);
    return { id, ms: performance.now() - started };
  };
  // A member of one of the teams, signed in two ways: a browser's session cookie (signed with the
  // server's NEXTAUTH_SECRET, as sign-in issues it) and an API token, as a script polls with.
  const { addTeamMember } = await import("../lib/accounts/users");
  const { createApiToken } = await import("../lib/auth/api-token");
  const { sessionCookie } = await import("../tests/integration/support/session-cookie");
  const member = await createUser({ email: "member@bench.local", name: "Member", password: "bench-password-1" });
  await addTeamMember(teamIds[TEAMS >> 1], member.id);
  const signedIn = {
    cookie: `goat-theme=dark; ${await sessionCookie({ id: member.id, role: "PARTICIPANT" })}`,
    authorization: `Bearer ${(await createApiToken(member.id, "bench")).token}`,
  };
  return { slug: task.slug, teamIds, seedSeconds, storeOne, maintainedMs, scanMs, signedIn };
}

// ---- the built app ----

/** `npm run build`, then a copy of the standalone folder out of .next/ (as tests/e2e/support/build-app.ts does), so another build in this checkout cannot pull it away mid-run. */
async function buildApp(): Promise<string> {
  if (process.env.BENCH_APP_DIR) return process.env.BENCH_APP_DIR;
  execFileSync("bash", ["scripts/build-web.sh"], { cwd: ROOT, stdio: "pipe", env: { ...process.env, NODE_ENV: "production" } });
  const target = path.join(workDir, "app");
  execFileSync("cp", ["-a", path.join(ROOT, ".next", "standalone"), target]);
  return target;
}

/** The commit the app in `appDir` was built from (scripts/build-web.sh writes it), or "unknown". */
async function builtFrom(appDir: string): Promise<string> {
  return (await fs.readFile(path.join(appDir, "BUILD_COMMIT"), "utf8").catch(() => "unknown\n")).trim();
}

/** The built app on `port`: our web server (web-server.mjs) or, for comparison, Next's own (server.js). */
async function startServer(appDir: string, port: number, entry: "web-server.mjs" | "server.js" = "web-server.mjs"): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(appDir, entry)], { cwd: ROOT, env: { ...process.env, PORT: String(port), HOSTNAME: "127.0.0.1" }, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout!.on("data", (chunk) => (log = (log + chunk).slice(-4000)));
  child.stderr!.on("data", (chunk) => (log = (log + chunk).slice(-4000)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the web app exited:\n${log}`);
    const ok = await fetch(`http://127.0.0.1:${port}/api/health`).then((response) => response.ok, () => false);
    if (ok) return child;
    if (Date.now() > deadline) throw new Error(`the web app did not answer /api/health within 60 s:\n${log}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function residentMb(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

// ---- load ----

/** Opens `count` leaderboard streams; resolves once each has said ": connected". */
async function openStreams(url: string, count: number) {
  const streams: { request: http.ClientRequest; scoredAt: number[] }[] = [];
  await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<void>((resolve, reject) => {
        const entry = { request: null as unknown as http.ClientRequest, scoredAt: [] as number[] };
        entry.request = http.get(url, { agent: false, headers: { accept: "text/event-stream" } }, (response) => {
          if (response.statusCode !== 200) {
            reject(new Error(`a leaderboard stream answered ${response.statusCode}`));
            response.resume();
            return;
          }
          let buffer = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => {
            buffer += chunk;
            if (buffer.includes(": connected")) resolve();
            let at: number;
            while ((at = buffer.indexOf("event: scored")) >= 0) {
              entry.scoredAt.push(performance.now());
              buffer = buffer.slice(at + 13);
            }
          });
        });
        entry.request.on("error", reject);
        streams.push(entry);
      }),
    ),
  );
  return streams;
}

async function main() {
  const commit = currentCommit();
  let server: ChildProcess | null = null;
  try {
    console.log(`[bench] seeding ${TEAMS} teams x ${PER_TEAM} scored submissions …`);
    const { slug, teamIds, seedSeconds, storeOne, maintainedMs, scanMs, signedIn } = await seed();
    console.log(`[bench] seeded in ${seedSeconds.toFixed(1)} s; building/starting the app …`);
    const writeMs: number[] = [];
    for (let i = 0; i < 20; i++) writeMs.push((await storeOne(teamIds[(i * 37) % teamIds.length], Math.random())).ms);

    const appDir = await buildApp();
    const port = await freePort();
    server = await startServer(appDir, port);
    const base = `http://127.0.0.1:${port}`;
    // Streams first, on a server that has served one request of each kind: memory per open stream
    // is then not blurred by the heap growth of the load runs.
    for (const url of [`/api/tasks/${slug}/leaderboard`, `/api/tasks/${slug}/leaderboard?pageSize=1000`, `/tasks/${slug}/leaderboard`]) await fetch(`${base}${url}`, { headers: { accept: BROWSER_ACCEPT } }).then((response) => response.text());
    // Streams: memory per open stream, and a new score's delay to the last of them.
    const { publishSubmissionStatus } = await import("../lib/events/submission-events");
    const before = await residentMb(server.pid!);
    const streams = await openStreams(`${base}/api/tasks/${slug}/leaderboard/events`, STREAMS);
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // let the server's heap settle before reading its memory
    const after = await residentMb(server.pid!);
    const delays: number[] = [];
    const received: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const { id } = await storeOne(teamIds[run], 2 + run);
      const published = performance.now();
      await publishSubmissionStatus(id);
      const deadline = Date.now() + 10_000;
      while (streams.some((stream) => stream.scoredAt.length <= run) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      const arrived = streams.filter((stream) => stream.scoredAt.length > run);
      received.push(arrived.length);
      delays.push(Math.max(...arrived.map((stream) => stream.scoredAt[run] - published)));
    }
    for (const stream of streams) stream.request.destroy();

    const api = await load(`${base}/api/tasks/${slug}/leaderboard`, 200, server.pid!);
    const gzipped = await load(`${base}/api/tasks/${slug}/leaderboard`, 200, server.pid!, { "accept-encoding": "gzip" });
    const withTheme = await load(`${base}/api/tasks/${slug}/leaderboard`, 200, server.pid!, { cookie: "goat-theme=dark" });
    const withSession = await load(`${base}/api/tasks/${slug}/leaderboard`, 200, server.pid!, { cookie: signedIn.cookie });
    const withToken = await load(`${base}/api/tasks/${slug}/leaderboard`, 200, server.pid!, { authorization: signedIn.authorization });
    const full = await load(`${base}/api/tasks/${slug}/leaderboard?pageSize=1000`, 50, server.pid!);
    // As a browser loads the page (the kept HTML is for document loads: lib/leaderboard/page-html-cache.ts).
    const page = await load(`${base}/tasks/${slug}/leaderboard`, 50, server.pid!, { accept: BROWSER_ACCEPT });
    const signedInPage = await load(`${base}/tasks/${slug}/leaderboard`, 50, server.pid!, { accept: BROWSER_ACCEPT, cookie: signedIn.cookie });
    // What the signed-in page then asks for in the browser: the reader's own row, chart and name (lib/leaderboard/viewer.ts).
    const viewer = await load(`${base}/api/tasks/${slug}/leaderboard/viewer`, 50, server.pid!, { cookie: signedIn.cookie });
    const barePort = await freePort();
    const bareServer = await startBareServer(`${base}/api/tasks/${slug}/leaderboard`, barePort, workDir);
    let bare: LoadFigures;
    try {
      bare = await load(`http://127.0.0.1:${barePort}/`, 200, bareServer.pid!);
    } finally {
      bareServer.kill();
    }
    // The same build, through Next's own server.js: every poll goes through the App Router route.
    const nextPort = await freePort();
    const nextServer = await startServer(appDir, nextPort, "server.js");
    let nextAlone: LoadFigures;
    try {
      await fetch(`http://127.0.0.1:${nextPort}/api/tasks/${slug}/leaderboard`).then((response) => response.text());
      nextAlone = await load(`http://127.0.0.1:${nextPort}/api/tasks/${slug}/leaderboard`, 200, nextServer.pid!);
    } finally {
      nextServer.kill();
    }


    const load1 = os.loadavg()[0].toFixed(1);

    console.log(`
Leaderboard load, ${TEAMS} teams x ${PER_TEAM} scored submissions, ${new Date().toISOString().slice(0, 10)}, commit ${commit} (seed and load), the web app built from ${await builtFrom(appDir)}${process.env.BENCH_APP_DIR ? ` (BENCH_APP_DIR=${process.env.BENCH_APP_DIR})` : ""}
${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), load average ${load1} at the end; server, Postgres, Redis and autocannon on the same machine.
${RUNS} runs of ${SECONDS} s each: min / median / max.

${LOAD_TABLE_HEADER}
${loadRow("API, default page (100 rows), 200 connections", api)}
${loadRow("same, through Next's own server.js (the route handler answers every poll)", nextAlone)}
${loadRow("same, Accept-Encoding: gzip (compressed once per board version)", gzipped)}
${loadRow("same, an anonymous browser (a theme cookie, no session)", withTheme)}
${loadRow("same, signed in: a browser's session cookie (its team's row included)", withSession)}
${loadRow("same, signed in: an API token (Authorization: Bearer)", withToken)}
${loadRow("API, full board (pageSize=1000), 50 connections", full)}
${loadRow("leaderboard page, 50 connections", page)}
${loadRow("same, signed in (a session cookie: the kept page for signed-in readers)", signedInPage)}
${loadRow("its reader's own part, asked by the browser (GET .../leaderboard/viewer), 50 connections", viewer)}
${loadRow("reference: the API's default page as bytes from a bare node:http server (no Next), 200 connections", bare)}

| live streams | figure |
| --- | --- |
| ${STREAMS} open streams: new score to the last stream (ms, min / median / max) | ${spread(delays)} |
| streams that received it | ${received.join(", ")} of ${STREAMS} |
| server memory per open stream | ${(((after - before) * 1024) / STREAMS).toFixed(1)} KB (RSS ${before.toFixed(0)} -> ${after.toFixed(0)} MB) |
| storing one result with the board maintained (ms, ${writeMs.length} transactions, min / median / max) | ${spread(writeMs, 1)} |
| reading the whole board from Postgres: maintained table (ms, 5 reads) | ${spread(maintainedMs, 1)} |
| the same board by scanning every result, as before (ms, 5 reads) | ${spread(scanMs, 1)} |
| seeding ${TEAMS * PER_TEAM} results (one transaction per team) | ${seedSeconds.toFixed(1)} s |
`);
  } finally {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once("exit", resolve));
      server.kill("SIGTERM");
      await exited;
    }
    const { db } = await import("../lib/db");
    await db.$disconnect().catch(() => undefined);
    await environment.dispose();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
