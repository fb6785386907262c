import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NdArray } from "@goat/contracts/dataset/npy";
import { PARTICIPANT_MESSAGE_MAX_CHARS } from "@goat/contracts/participant-message";
import { evaluationQueue } from "@/lib/queue/evaluation-queue";
import { buildQuotingErrorModel, buildShapeLeakModel } from "@/tests/support/onnx/hostile-models";
import { int64Labels, participantWithTeam, taskWithDataset } from "../integration/support/fixtures";
import { dropJobsLeftByEarlierFiles } from "../integration/support/shared-queue";
import { submissionStatus, upload } from "../integration/support/upload";
import { waitForFinalStatus } from "../integration/support/wait";
import { startWorker, type WorkerProcess } from "../integration/support/worker-process";

/**
 * Issue 8, item 1: a model tries to carry the hidden test inputs out through its failure
 * message, the way one submission carried out half of the test images: by returning outputs
 * whose shape is read from the inputs, or by making onnxruntime quote them in an error. Through
 * the real route, queue and worker, each ends FAILED with a message that holds none of them.
 */

const ROWS = 6;
const WIDTH = 784;
// The first three values of each test row: distinctive numbers that no template contains.
const SECRETS = [
  [53, 59, 61],
  [67, 71, 73],
  [79, 83, 89],
  [97, 101, 103],
  [107, 109, 113],
  [127, 131, 137],
];

function secretInputs(): NdArray {
  const data = new Float32Array(ROWS * WIDTH);
  SECRETS.forEach((row, r) => row.forEach((v, c) => (data[r * WIDTH + c] = v)));
  return { dtype: "float32", shape: [ROWS, WIDTH], data };
}

function expectNoSecrets(message: string | null): void {
  expect(message).toMatch(/\S/);
  for (const value of SECRETS.flat()) expect(message, `message quotes ${value}`).not.toMatch(new RegExp(`(^|\\D)${value}(\\D|$)`));
  expect(message!.length).toBeLessThanOrEqual(PARTICIPANT_MESSAGE_MAX_CHARS);
  expect(message).not.toMatch(/\/tmp|\/var|onnxruntime_src|::/);
}

let worker: WorkerProcess;
let team: Awaited<ReturnType<typeof participantWithTeam>>;

beforeAll(async () => {
  team = await participantWithTeam();
  // The only worker of the security project: without this it first evaluates the uploads that
  // earlier files queued and never ran (hostile models among them), and this file's submissions
  // wait behind them (a clean-clone CI run saw the first one still QUEUED after 45 s).
  await dropJobsLeftByEarlierFiles();
  worker = await startWorker("leak-worker");
});

afterAll(async () => {
  await worker?.stop();
  await evaluationQueue().close();
});

async function failedMessage(slug: string, model: Uint8Array) {
  const accepted = await upload(slug, team.token, model);
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
  const final = await waitForFinalStatus(accepted.body.id);
  expect(final).toMatchObject({ status: "FAILED", failureKind: "PARTICIPANT" });
  const status = await submissionStatus(slug, accepted.body.id, team.token);
  expect(status.body.status).toBe("FAILED");
  expect(status.body.message).toBe(final.message);
  return final.message;
}

describe.each([
  ["several batches (the shape changes from one batch to the next)", 2],
  ["one batch (the whole output has the wrong shape)", ROWS],
])("a model evaluated in %s", (_, batchSize) => {
  let slug: string;
  beforeAll(async () => {
    const task = await taskWithDataset({
      inputs: secretInputs(),
      labels: int64Labels(SECRETS.map((_, i) => i % 3)),
      batchSize,
      dailySubmissionLimit: 50,
    });
    slug = task.slug;
  });

  it("whose output shape spells out test inputs ends FAILED with a message that holds none of them", async () => {
    const message = await failedMessage(slug, buildShapeLeakModel());
    expect(message).toMatch(/shape/);
    expectNoSecrets(message);
  });

  it("whose onnxruntime error quotes test inputs ends FAILED with a message that holds none of them; the raw error is only in the worker log", async () => {
    const message = await failedMessage(slug, buildQuotingErrorModel());
    expect(message).toMatch(/^The model failed while running the "Reshape" node: the shape it was asked to reshape to does not fit its input\./);
    expectNoSecrets(message);
    expect(worker.output()).toMatch(/requested shape:\{53,59\}/);
  });
});
