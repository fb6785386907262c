import { afterAll, beforeAll, expect, it } from "vitest";
import { db } from "@/lib/db";
import { evaluationQueue } from "@/lib/queue/evaluation-queue";
import { buildHangingModel } from "@/tests/support/onnx/failing-models";
import { int64Labels, participantWithTeam, randomRows, taskWithDataset } from "./support/fixtures";
import { upload } from "./support/upload";
import { waitFor, waitForFinalStatus } from "./support/wait";
import { startWorker, type WorkerProcess } from "./support/worker-process";

// A worker killed with -9 in the middle of an evaluation: BullMQ's stalled-job check hands the job
// to another worker (after LOCK_DURATION_MS), and the submission ends with exactly one result.

const workers: WorkerProcess[] = [];

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop("SIGKILL")));
  await evaluationQueue().close();
});

let slug: string;
let token: string;

beforeAll(async () => {
  const task = await taskWithDataset({
    inputs: randomRows(200, 784, 3),
    labels: int64Labels(Array.from({ length: 200 }, (_, i) => i % 10)),
    outputSpec: [{ name: "output", dtype: "float32", shape: [-1, 10] }],
    batchSize: 200,
    evalTimeoutMs: 60_000,
  });
  slug = task.slug;
  token = (await participantWithTeam()).token;
});

it("a job whose worker was killed with -9 completes on another worker, with exactly one result", async () => {
  const first = await startWorker("doomed-worker");
  workers.push(first);
  // A slow but finite model: a Loop of a few thousand small matmuls (a few seconds on one core).
  const accepted = await upload(slug, token, buildHangingModel({ tripCount: 2_000_000n }));
  expect(accepted.status).toBe(202);
  const id = accepted.body.id as number;

  await waitFor("the first worker to start the evaluation", async () => {
    const row = await db.submission.findUniqueOrThrow({ where: { id } });
    return row.status === "RUNNING" && row.workerId === "doomed-worker";
  });
  const second = await startWorker("rescue-worker");
  workers.push(second);
  await first.stop("SIGKILL");

  const final = await waitForFinalStatus(id, 60_000);
  expect(final).toMatchObject({ status: "SCORED", workerId: "rescue-worker", attempts: 2 });
  expect(await db.result.count({ where: { submissionId: id } })).toBe(1);
  // The log line follows the result's commit; wait for it rather than race it.
  await waitFor("the rescue worker's log line", async () => second.output().includes(`submission ${id} scored`));
});
