import fs from "node:fs/promises";
import IORedis from "ioredis";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { writeNpyFile } from "@goat/contracts/dataset/npy";
import { evaluationJobId } from "@goat/contracts/evaluation-job";
import { datasetVersionsDir } from "@goat/contracts/paths";
import { db } from "@/lib/db";
import { handBackLostWorkers } from "@/lib/admin/worker-health";
import { evaluationQueue, onQueueRedisBack, queueRedis, WORKER_RECONNECT_GRACE_MS } from "@/lib/queue/evaluation-queue";
import { reconcileEvaluationQueue, startReconciler } from "@/lib/queue/reconciler";
import { importDataset } from "@/lib/tasks/admin";
import { buildMlp } from "@/tools/onnx/build-model";
import { int64Labels, participantWithTeam, randomRows, taskWithDataset, uniqueName } from "./support/fixtures";
import { upload } from "./support/upload";

// Postgres is the source of truth: a QUEUED submission whose job vanished from Redis gets it back.

let slug: string;
let token: string;

beforeAll(async () => {
  const task = await taskWithDataset({ inputs: randomRows(20, 784, 1), labels: int64Labels(Array(20).fill(2)), outputSpec: [{ name: "output", dtype: "float32", shape: [-1, 10] }] });
  slug = task.slug;
  token = (await participantWithTeam()).token;
});

afterAll(async () => {
  await evaluationQueue().close();
});

it("re-adds the job of a QUEUED submission that has none (after a Redis loss)", async () => {
  const accepted = await upload(slug, token, buildMlp({ sizes: [784, 8, 10], seed: 5 }));
  const id = accepted.body.id as number;
  const job = await evaluationQueue().getJob(evaluationJobId(id));
  await job!.remove();
  expect(await evaluationQueue().getJob(evaluationJobId(id))).toBeUndefined();

  const { requeued } = await reconcileEvaluationQueue();
  expect(requeued).toContain(id);
  const restored = await evaluationQueue().getJob(evaluationJobId(id));
  expect(restored?.data).toEqual({ submissionId: id, reason: "reconcile" });

  // A second pass finds nothing to do.
  expect((await reconcileEvaluationQueue()).requeued).not.toContain(id);
});

it("puts an overdue RUNNING submission whose job vanished back in the queue", async () => {
  const accepted = await upload(slug, token, buildMlp({ sizes: [784, 8, 10], seed: 6 }));
  const id = accepted.body.id as number;
  await (await evaluationQueue().getJob(evaluationJobId(id)))!.remove();
  await db.submission.update({ where: { id }, data: { status: "RUNNING", workerId: "gone", startedAt: new Date(Date.now() - 3_600_000) } });

  const { requeued } = await reconcileEvaluationQueue();
  expect(requeued).toContain(id);
  expect(await db.submission.findUniqueOrThrow({ where: { id }, select: { status: true, workerId: true } })).toEqual({ status: "QUEUED", workerId: null });
  expect((await evaluationQueue().getJob(evaluationJobId(id)))?.data).toEqual({ submissionId: id, reason: "reconcile" });
});

it("right after the queue's Redis came back, takes no unlisted worker for dead (it may be reconnecting): neither its evaluation nor the worker, until the grace is over", async () => {
  const accepted = await upload(slug, token, buildMlp({ sizes: [784, 8, 10], seed: 7 }));
  const id = accepted.body.id as number;
  const workerId = uniqueName("reconnecting");
  // Its worker is alive but not yet back in Redis' client list: silent since before the restart,
  // its evaluation a minute old (neither new nor overdue), its job gone with Redis' data.
  await db.worker.create({ data: { id: workerId, host: "gpu-host", executionProvider: "cpu", heartbeatIntervalMs: 1_000, figures: {}, lastHeartbeatAt: new Date(Date.now() - 60_000) } });
  await (await evaluationQueue().getJob(evaluationJobId(id)))!.remove();
  await db.submission.update({ where: { id }, data: { status: "RUNNING", workerId, startedAt: new Date(Date.now() - 60_000) } });

  // The queue's own connection lost and made again, as a Redis restart does.
  const back = new Promise<void>((resolve) => {
    const stop = onQueueRedisBack(() => {
      stop();
      resolve();
    });
  });
  queueRedis().disconnect(true);
  await back;
  const backAt = Date.now();

  expect((await reconcileEvaluationQueue()).requeued).not.toContain(id);
  expect((await handBackLostWorkers()).lost).not.toContain(workerId);
  expect(await db.submission.findUniqueOrThrow({ where: { id }, select: { status: true, workerId: true } })).toEqual({ status: "RUNNING", workerId });
  expect((await db.worker.findUniqueOrThrow({ where: { id: workerId } })).lostAt).toBeNull();

  // Once every live worker had the time to reconnect, one still missing is gone.
  const later = new Date(backAt + WORKER_RECONNECT_GRACE_MS + 1_000);
  expect((await reconcileEvaluationQueue(later)).requeued).toContain(id);
  expect(await db.submission.findUniqueOrThrow({ where: { id }, select: { status: true, workerId: true } })).toEqual({ status: "QUEUED", workerId: null });
  expect((await handBackLostWorkers(later)).lost).toContain(workerId);
});

it("pauses the queue again when Redis forgot an organiser's pause (the audit log remembers it)", async () => {
  const queue = evaluationQueue();
  await db.auditLogEntry.create({ data: { action: "queue.pause", target: "queue:evaluations" } });
  expect(await queue.isPaused()).toBe(false); // as after a flush
  try {
    expect((await reconcileEvaluationQueue()).repaused).toBe(true);
    expect(await queue.isPaused()).toBe(true);
    expect((await reconcileEvaluationQueue()).repaused).toBe(false);
  } finally {
    await db.auditLogEntry.create({ data: { action: "queue.resume", target: "queue:evaluations" } });
    await queue.resume();
  }
  expect((await reconcileEvaluationQueue()).repaused).toBe(false);
  expect(await queue.isPaused()).toBe(false);
});

it("removes, in its pass, a dataset version no evaluation uses once the current one is past its grace period", async () => {
  const task = await taskWithDataset({ inputs: randomRows(20, 784, 2), labels: int64Labels(Array(20).fill(1)), outputSpec: [{ name: "output", dtype: "float32", shape: [-1, 10] }] });
  const dir = path.join(process.env.GOAT_TEST_ROOT!, uniqueName("reimport"));
  await fs.mkdir(dir, { recursive: true });
  await writeNpyFile(path.join(dir, "inputs.npy"), randomRows(20, 784, 3));
  await writeNpyFile(path.join(dir, "labels.npy"), int64Labels(Array(20).fill(4)));
  const { version: current } = await importDataset(task.slug, { inputs: path.join(dir, "inputs.npy"), labels: path.join(dir, "labels.npy") });
  const versions = datasetVersionsDir(process.env.DATA_DIR!, task.slug);
  expect((await fs.readdir(versions)).sort()).toEqual([task.datasetVersion, current].sort());

  // The new version became current ten minutes ago: past the grace period, and nothing runs.
  const past = new Date(Date.now() - 10 * 60_000);
  await fs.utimes(path.join(versions, current), past, past);
  const reconciler = startReconciler(0); // one pass, now
  try {
    const deadline = Date.now() + 20_000;
    while ((await fs.readdir(versions)).length > 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    reconciler.stop();
  }
  expect(await fs.readdir(versions)).toEqual([current]);
});

it("an upload whose id a finished job of another database holds on this Redis prefix still gets its job at once", async () => {
  // A reset database, or a second platform on the same Redis prefix, gives out ids that finished
  // jobs in Redis still hold: as BullMQ keeps a completed job, a hash and an entry in `completed`.
  const queue = evaluationQueue();
  const redis = new IORedis(process.env.REDIS_URL!);
  const [{ last_value: last }] = await db.$queryRaw<{ last_value: bigint }[]>`SELECT last_value FROM submissions_id_seq`;
  const upcoming = Array.from({ length: 20 }, (_, i) => Number(last) + 1 + i);
  const finishedAt = Date.now() - 60_000;
  for (const id of upcoming) {
    const key = `${queue.opts.prefix}:${queue.name}:${evaluationJobId(id)}`;
    await redis.hset(key, { name: "evaluate", data: JSON.stringify({ submissionId: id, reason: "upload" }), opts: "{}", timestamp: String(finishedAt - 1_000), finishedOn: String(finishedAt), returnvalue: "null" });
    await redis.zadd(`${queue.opts.prefix}:${queue.name}:completed`, finishedAt, evaluationJobId(id));
  }
  redis.disconnect();

  const accepted = await upload(slug, token, buildMlp({ sizes: [784, 8, 10], seed: 8 }));
  const id = accepted.body.id as number;
  expect(upcoming).toContain(id); // the stale job was there for this id
  const job = await queue.getJob(evaluationJobId(id));
  expect(job?.data).toEqual({ submissionId: id, reason: "upload" });
  expect(job!.timestamp).toBeGreaterThan(finishedAt);
  expect(await job!.getState()).not.toBe("completed");
});
