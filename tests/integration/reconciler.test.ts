import { afterAll, beforeAll, expect, it } from "vitest";
import { evaluationJobId } from "@goat/contracts/evaluation-job";
import { db } from "@/lib/db";
import { evaluationQueue } from "@/lib/queue/evaluation-queue";
import { reconcileEvaluationQueue } from "@/lib/queue/reconciler";
import { buildMlp } from "@/tools/onnx/build-model";
import { int64Labels, participantWithTeam, randomRows, taskWithDataset } from "./support/fixtures";
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
  expect(await evaluationQueue().getJob(evaluationJobId(id))).toBeDefined();
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
