import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { db } from "@/lib/db";
import { evaluationQueue } from "@/lib/queue/evaluation-queue";
import { buildMlp } from "@/tools/onnx/build-model";
import { BUILT_WORKER } from "@/tests/support/built-worker";
import { buildNaNModel, buildThrowingModel, buildWrongOutputRowsModel } from "@/tests/support/onnx/failing-models";
import { int64Labels, participantWithTeam, randomRows, taskWithDataset } from "./support/fixtures";
import { upload } from "./support/upload";
import { waitFor, waitForFinalStatus } from "./support/wait";
import { freePort } from "@/tests/support/free-port";
import { dropJobsLeftByEarlierFiles } from "./support/shared-queue";
import { startWorker, workerHealthAt, type WorkerProcess } from "./support/worker-process";

// A worker whose sandbox processes cannot start (here: a copy of the built worker whose sandbox
// child exits at once, as a broken deployment would) pauses after SANDBOX_FAULT_LIMIT evaluations
// in a row failed so, instead of taking every retry and every next job and failing them all
// (worker/src/sandbox-breaker.ts). The submission keeps its remaining attempts for a healthy
// worker; the broken one says why it is paused (health 503, PAUSED on the dashboard) and resumes
// by itself once its sandbox starts again.

const brokenDir = path.join(path.dirname(BUILT_WORKER), `broken-${process.pid}`);
const brokenMain = path.join(brokenDir, path.basename(BUILT_WORKER));
const childFile = (dir: string) => path.join(dir, "sandbox-child.cjs");
const workers: WorkerProcess[] = [];
let slug: string;
let token: string;

beforeAll(async () => {
  // The bundle finds its sandbox child beside itself (worker/src/sandbox/child-bundle.ts), and its
  // packages in the repository's node_modules above.
  await fs.mkdir(brokenDir, { recursive: true });
  await fs.copyFile(BUILT_WORKER, brokenMain);
  await fs.writeFile(childFile(brokenDir), "process.exit(3);\n");
  const task = await taskWithDataset({
    inputs: randomRows(40, 784, 11),
    labels: int64Labels(Array.from({ length: 40 }, (_, i) => i % 10)),
    outputSpec: [{ name: "output", dtype: "float32", shape: [-1, 10] }],
    dailySubmissionLimit: 20,
  });
  slug = task.slug;
  token = (await participantWithTeam()).token;
  // Else the broken worker would fail those jobs and pause before it saw this file's.
  await dropJobsLeftByEarlierFiles();
});

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  await evaluationQueue().close();
  await fs.rm(brokenDir, { recursive: true, force: true });
});

async function uploadModel(seed: number): Promise<number> {
  const accepted = await upload(slug, token, buildMlp({ sizes: [784, 8, 10], seed }));
  expect(accepted.status).toBe(202);
  return accepted.body.id as number;
}

const submissionRow = (id: number) => db.submission.findUniqueOrThrow({ where: { id }, select: { status: true, attempts: true, workerId: true } });
const workerState = async (id: string) => (await db.worker.findUniqueOrThrow({ where: { id }, select: { state: true } })).state;

it("pauses a worker whose sandbox cannot start, leaves the job's attempts to a healthy worker, and resumes once its sandbox starts", async () => {
  const healthPort = await freePort();
  const broken = await startWorker("broken-sandbox-worker", { SANDBOX_FAULT_LIMIT: "2", SANDBOX_CHECK_DELAY_MS: "300", WORKER_HEALTH_PORT: String(healthPort) }, 30_000, undefined, brokenMain);
  workers.push(broken);
  await waitFor("its health endpoint", () => workerHealthAt(healthPort).catch(() => null), 10_000);

  const first = await uploadModel(1);
  // Two attempts fail on its sandbox (the backoff here is 200 ms, then 400), then it pauses.
  await waitFor("the worker to pause", async () => (await workerState(broken.id)) === "PAUSED", 20_000);
  expect(broken.output()).toMatch(/pausing: 2 evaluations in a row could not start a sandbox process \(last: SANDBOX_START_FAILED\)/);
  const health = await workerHealthAt(healthPort);
  expect(health.status).toBe(503);
  expect(health.body).toMatchObject({ status: "unavailable", redis: "ok", database: "ok", shuttingDown: false });
  expect(health.body.sandbox).toMatch(/could not start a sandbox process/);
  const metrics = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
  expect(metrics).toMatch(/^goat_worker_sandbox_paused 1$/m);

  // Paused, it takes no more attempts: the submission waits in the queue with two of its four left.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  expect(await submissionRow(first)).toMatchObject({ status: "QUEUED", attempts: 2 });
  expect(broken.output()).toMatch(/sandbox check failed: still paused/);

  // A healthy worker scores it on its third attempt.
  const healthy = await startWorker("healthy-worker");
  workers.push(healthy);
  expect(await waitForFinalStatus(first, 30_000)).toMatchObject({ status: "SCORED", attempts: 3, workerId: "healthy-worker" });
  await healthy.stop();

  // The deployment is mended: a check passes, and the worker takes jobs again.
  await fs.copyFile(childFile(path.dirname(BUILT_WORKER)), childFile(brokenDir));
  await waitFor("the worker to resume", async () => (await workerState(broken.id)) === "ONLINE", 30_000);
  expect(broken.output()).toMatch(/sandbox check passed: taking jobs again/);
  expect(await workerHealthAt(healthPort)).toMatchObject({ status: 200, body: { status: "ok", sandbox: "ok" } });
  const second = await uploadModel(2);
  expect(await waitForFinalStatus(second, 30_000)).toMatchObject({ status: "SCORED", attempts: 1, workerId: "broken-sandbox-worker" });
});

it("never pauses for models' own faults, however many in a row", async () => {
  // The worker of the first test, its sandbox mended, is the only one: three models that fail in
  // the sandbox, each the participant's fault, one after another.
  const ids: number[] = [];
  for (const model of [buildThrowingModel(), buildWrongOutputRowsModel(), buildNaNModel()]) {
    const accepted = await upload(slug, token, model);
    expect(accepted.status).toBe(202);
    ids.push(accepted.body.id as number);
  }
  for (const id of ids) expect(await waitForFinalStatus(id, 30_000)).toMatchObject({ status: "FAILED", failureKind: "PARTICIPANT", attempts: 1, workerId: "broken-sandbox-worker" });
  expect(await workerState("broken-sandbox-worker")).toBe("ONLINE");
  // Paused once only: in the first test, for its sandbox.
  expect(workers[0].output().match(/pausing:/g)).toHaveLength(1);
});
