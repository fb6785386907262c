import fs from "node:fs/promises";
import path from "node:path";
import S3rver from "s3rver";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import { evaluationQueue } from "@/lib/queue/evaluation-queue";
import { buildLinearClassifier } from "@/tools/onnx/build-model";
import { buildHangingModel } from "@/tests/support/onnx/failing-models";
import { int64Labels, participantWithTeam, randomRows, taskWithDataset } from "./support/fixtures";
import { upload } from "./support/upload";
import { waitFor, waitForFinalStatus } from "./support/wait";
import { freePort } from "@/tests/support/free-port";
import { startWorker, workerHealthAt, type WorkerProcess } from "./support/worker-process";

// Several workers, as on several GPU hosts: separate processes with their own ids, sharing only
// Postgres, Redis and S3-compatible model storage (s3rver, started here). The web side (the
// real upload route, in this process) puts the models into the same bucket.

const BUCKET = "goat-multi-worker";
const s3Env: Record<string, string> = { STORAGE_BACKEND: "s3", S3_BUCKET: BUCKET, S3_REGION: "us-east-1", S3_FORCE_PATH_STYLE: "true", S3_ACCESS_KEY_ID: "S3RVER", S3_SECRET_ACCESS_KEY: "S3RVER" };
const savedEnv = { ...process.env };
let s3: S3rver;
const workers: WorkerProcess[] = [];
let slug: string;
let token: string;

async function start(id: string, extraEnv: Record<string, string> = {}) {
  const worker = await startWorker(id, extraEnv);
  workers.push(worker);
  return worker;
}

beforeAll(async () => {
  s3 = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: path.join(process.env.GOAT_TEST_ROOT!, "s3rver"), configureBuckets: [{ name: BUCKET, configs: [] }] });
  const { port } = await s3.run();
  // Workers inherit this environment (support/worker-process.ts); the web side reads it afresh.
  Object.assign(process.env, s3Env, { S3_ENDPOINT: `http://127.0.0.1:${port}` });
  resetEnvForTests();
  delete (globalThis as { goatModelStorage?: unknown }).goatModelStorage;

  const task = await taskWithDataset({
    inputs: randomRows(200, 784, 5),
    labels: int64Labels(Array.from({ length: 200 }, (_, i) => i % 10)),
    outputSpec: [{ name: "output", dtype: "float32", shape: [-1, 10] }],
    batchSize: 200,
    dailySubmissionLimit: 100,
    evalTimeoutMs: 60_000,
  });
  slug = task.slug;
  token = (await participantWithTeam()).token;
});

// A test that fails midway must not leave its workers taking the next test's jobs.
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop("SIGKILL")));
});

afterAll(async () => {
  await evaluationQueue().close();
  await s3?.close();
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
  resetEnvForTests();
  delete (globalThis as { goatModelStorage?: unknown }).goatModelStorage;
});

/** Twenty different small models (different biases, so twenty different stored files). */
function distinctModel(i: number): Uint8Array {
  const weights = new Float32Array(784 * 10);
  for (let j = 0; j < 10; j++) weights[j * 10 + j] = 1;
  const bias = new Float32Array(10);
  bias[i % 10] = 0.001 * (i + 1);
  return buildLinearClassifier({ weights, bias, inDim: 784, outDim: 10 });
}

describe("two workers sharing Postgres, Redis and S3 storage", () => {
  it("twenty submissions are each scored exactly once, and both workers took work", async () => {
    const a = await start("host-a-worker-1");
    const b = await start("host-b-worker-1");
    const ids: number[] = [];
    for (let i = 0; i < 20; i++) {
      const accepted = await upload(slug, token, distinctModel(i));
      expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
      ids.push(accepted.body.id as number);
    }
    const finals = [];
    for (const id of ids) finals.push(await waitForFinalStatus(id, 90_000));

    expect(finals.map((s) => s.status)).toEqual(Array(20).fill("SCORED"));
    expect(finals.map((s) => s.attempts)).toEqual(Array(20).fill(1));
    expect(await db.result.count({ where: { submissionId: { in: ids } } })).toBe(20);
    const byWorker = await db.submission.groupBy({ by: ["workerId"], where: { id: { in: ids } }, _count: true });
    const counts = Object.fromEntries(byWorker.map((g) => [g.workerId, g._count]));
    expect(Object.keys(counts).sort()).toEqual(["host-a-worker-1", "host-b-worker-1"]);
    expect(counts["host-a-worker-1"] + counts["host-b-worker-1"]).toBe(20);
    // Each submission was evaluated by one worker only: its "scored" line appears once in all the
    // logs. The line is written after the result's commit, so the last ones may still be in flight.
    const scoredLines = (id: number) => (a.output() + b.output()).match(new RegExp(`submission ${id} scored`, "g")) ?? [];
    await waitFor("every scored line in the workers' logs", async () => ids.every((id) => scoredLines(id).length > 0), 10_000);
    for (const id of ids) expect(scoredLines(id)).toHaveLength(1);
    // The models came from the bucket: nothing was written to the directory backend.
    await expect(fs.readdir(path.join(process.env.STORAGE_DIR!, "models", slug))).rejects.toThrow();

    await Promise.all([a.stop(), b.stop()]);
  });
});

describe("graceful shutdown (SIGTERM)", () => {
  it("a busy worker reports unhealthy once told to stop, finishes its job, then exits 0", async () => {
    const healthPort = await freePort();
    const worker = await start("finishing-worker", { WORKER_HEALTH_PORT: String(healthPort), WORKER_SHUTDOWN_TIMEOUT_MS: "60000" });
    // The health server starts right after the queue consumer says "ready".
    await waitFor("the health endpoint", () => workerHealthAt(healthPort).catch(() => null), 10_000);
    expect(await workerHealthAt(healthPort)).toEqual({
      status: 200,
      body: { status: "ok", workerId: "finishing-worker", redis: "ok", database: "ok", sandbox: "ok", shuttingDown: false },
    });
    const accepted = await upload(slug, token, buildHangingModel({ tripCount: 600_000n }));
    const id = accepted.body.id as number;
    await waitFor("the worker to start the evaluation", async () => (await db.submission.findUniqueOrThrow({ where: { id } })).status === "RUNNING");

    worker.child.kill("SIGTERM");
    await waitFor("the health endpoint to say it is shutting down", async () => {
      const health = await workerHealthAt(healthPort).catch(() => null);
      return health?.status === 503 && health.body.shuttingDown === true;
    }, 5_000);
    const code = await worker.stop(); // already signalled: waits for the exit
    expect(code).toBe(0);
    // It finished the job before exiting: scored here, first attempt, one result.
    const row = await db.submission.findUniqueOrThrow({ where: { id }, select: { status: true, workerId: true, attempts: true } });
    expect(row).toEqual({ status: "SCORED", workerId: "finishing-worker", attempts: 1 });
    expect(await db.result.count({ where: { submissionId: id } })).toBe(1);
  });

  it("a job longer than the shutdown timeout is handed back at once and scored by another worker, once", async () => {
    // Long locks: only the explicit hand-back, not a lock expiry, can move the job within the test.
    const longLocks = { LOCK_DURATION_MS: "120000", STALLED_INTERVAL_MS: "60000" };
    const leaving = await start("leaving-worker", { ...longLocks, WORKER_SHUTDOWN_TIMEOUT_MS: "500" });
    const accepted = await upload(slug, token, buildHangingModel({ tripCount: 1_500_000n }));
    const id = accepted.body.id as number;
    await waitFor("the leaving worker to start the evaluation", async () => {
      const row = await db.submission.findUniqueOrThrow({ where: { id } });
      return row.status === "RUNNING" && row.workerId === "leaving-worker";
    });
    const staying = await start("staying-worker", longLocks);

    const signalledAt = Date.now();
    leaving.child.kill("SIGTERM");
    expect(await leaving.stop()).toBe(0);
    expect(leaving.output()).toContain(`submission ${id} handed back to the queue`);

    const final = await waitForFinalStatus(id, 60_000);
    expect(final).toMatchObject({ status: "SCORED", workerId: "staying-worker", attempts: 2 });
    expect(Date.now() - signalledAt).toBeLessThan(60_000); // well before the 120 s lock would expire
    expect(await db.result.count({ where: { submissionId: id } })).toBe(1);
    await waitFor("the staying worker's log line", async () => staying.output().includes(`submission ${id} scored`), 5_000);
  });
});
