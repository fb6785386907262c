import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { db } from "@/lib/db";
import { quotaState } from "@/lib/quota/daily-quota";
import { evaluationQueue } from "@/lib/queue/evaluation-queue";
import { datasetVersionDir } from "@goat/contracts/paths";
import { buildMlp } from "@/tools/onnx/build-model";
import { int64Labels, participantWithTeam, randomRows, taskWithDataset } from "./support/fixtures";
import { submissionStatus, upload } from "./support/upload";
import { waitFor, waitForFinalStatus } from "./support/wait";
import { startWorker, type WorkerProcess } from "./support/worker-process";

// A platform fault (here: the task's hidden test set is missing on the worker's disk) is retried
// with backoff; after the last attempt the submission ends FAILED as a platform fault, with a
// message that is not the participant's fault, and it costs the team no quota.

let worker: WorkerProcess;

beforeAll(async () => {
  worker = await startWorker("platform-fault-worker");
});

afterAll(async () => {
  await worker.stop();
  await evaluationQueue().close();
});

/** The messages of the platform faults the worker logged for one submission, attempt by attempt. */
function platformFaultsLogged(submissionId: number): string[] {
  return worker
    .logRecords()
    .filter((record) => record.submissionId === submissionId && record.err?.type === "PlatformFault")
    .sort((a, b) => (a.attempt ?? 0) - (b.attempt ?? 0))
    .map((record) => record.err!.message);
}

/** A 10-class task with a daily quota of 5, and a team to submit to it. */
async function taskWithQuotaOfFive(seed: number) {
  const task = await taskWithDataset({
    inputs: randomRows(30, 784, seed),
    labels: int64Labels(Array(30).fill(3)),
    outputSpec: [{ name: "output", dtype: "float32", shape: [-1, 10] }],
    dailySubmissionLimit: 5,
  });
  return { task, caller: await participantWithTeam() };
}

it("retries a platform fault, then fails it as PLATFORM without costing quota", async () => {
  const { task, caller } = await taskWithQuotaOfFive(4);
  await fs.rm(path.join(process.env.DATA_DIR!, task.slug), { recursive: true, force: true });

  const accepted = await upload(task.slug, caller.token, buildMlp({ sizes: [784, 8, 10], seed: 9 }));
  expect(accepted.status).toBe(202);
  expect(accepted.body.quota.remaining).toBe(4);

  const final = await waitForFinalStatus(accepted.body.id, 60_000);
  expect(final).toMatchObject({ status: "FAILED", failureKind: "PLATFORM", attempts: 4 });
  expect(final.message).toMatch(/on our side.*does not count against your quota/);
  expect(platformFaultsLogged(accepted.body.id)[0]).toMatch(/^The test set of "task-[^"]+": /);

  const status = await submissionStatus(task.slug, accepted.body.id, caller.token);
  expect(status.body).toMatchObject({ status: "FAILED", failureKind: "PLATFORM", result: null });
  const quota = await quotaState(db, caller.team.id, task);
  expect(quota).toMatchObject({ used: 0, remaining: 5 });
});

it("fails a dataset whose files changed after the import as PLATFORM, never scoring it and costing no quota", async () => {
  const { task, caller } = await taskWithQuotaOfFive(5);
  // One label changed in the version's folder: still a valid .npy, no longer the imported version.
  const labelsFile = path.join(datasetVersionDir(process.env.DATA_DIR!, task.slug, task.datasetVersion!), "labels.npy");
  const bytes = await fs.readFile(labelsFile);
  bytes[bytes.length - 8] = 7;
  await fs.writeFile(labelsFile, bytes);

  const accepted = await upload(task.slug, caller.token, buildMlp({ sizes: [784, 8, 10], seed: 9 }));
  const final = await waitForFinalStatus(accepted.body.id, 60_000);
  expect(final).toMatchObject({ status: "FAILED", failureKind: "PLATFORM", attempts: 4 });
  // Each attempt's fault is logged for the operators with the cause (the participant sees only the template above).
  // The record of the last attempt is written just after the FAILED status it reports.
  await waitFor("the last attempt's log record", async () => platformFaultsLogged(accepted.body.id).length === 4, 5_000);
  const faults = platformFaultsLogged(accepted.body.id);
  for (const fault of faults) expect(fault).toMatch(/^The test set of "task-[^"]+": \S+ holds version [0-9a-f]{12}, not [0-9a-f]{12}: its files changed after the import/);
  expect(await db.result.findUnique({ where: { submissionId: accepted.body.id } })).toBeNull();
  expect(await quotaState(db, caller.team.id, task)).toMatchObject({ used: 0, remaining: 5 });
});
