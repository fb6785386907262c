import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DirectoryModelStorage, modelStorageKey } from "@goat/contracts/model-storage";
import { db } from "@/lib/db";
import { buildLinearClassifier } from "@/tools/onnx/build-model";
import { createDb, type Db } from "../../worker/src/db";
import { evaluateSubmission, type EvaluationContext } from "../../worker/src/evaluate-submission";
import { ParticipantFault } from "../../worker/src/faults";
import { SandboxPool } from "../../worker/src/sandbox/pool";
import { TaskDatasetCache } from "../../worker/src/task-datasets";
import { int64Labels, participantWithTeam, randomRows, taskWithDataset, uniqueName } from "./support/fixtures";

/**
 * The RUNNING event of an evaluation goes out once the sandbox child has been told to evaluate, not
 * before (worker/src/evaluate-submission.ts: its read and publish then run while the model does), and
 * every later event of the submission waits for it: a browser never sees RUNNING after the outcome,
 * and the evaluation never waits for the event.
 *
 * The status publisher here reads the status, then holds its first (RUNNING) event until the
 * sandbox has returned: code that awaited the event before or during the evaluation would wait
 * 10 s and fail the order.
 */
const WIDTH = 4;

let workerDb: Db;
let pool: SandboxPool;
let storage: DirectoryModelStorage;
let taskId: number;
let slug: string;
let owner: { teamId: number; userId: number };

async function submissionOf(model: Uint8Array): Promise<number> {
  const sha256 = createHash("sha256").update(model).digest("hex");
  const file = path.join(process.env.GOAT_TEST_ROOT!, `${uniqueName("model")}.onnx`);
  await fs.writeFile(file, model);
  const storageKey = modelStorageKey(slug, sha256);
  await storage.putFile(storageKey, file);
  const row = await db.submission.create({
    data: { taskId, ...owner, fileName: "model.onnx", sha256, sizeBytes: model.byteLength, storageKey, paramCount: 15n },
    select: { id: true },
  });
  return row.id;
}

/** A context whose publisher and sandbox write what happens, in order, to `events`. */
function recordingContext(events: string[]): EvaluationContext {
  let sandboxReturned!: () => void;
  const returned = new Promise<void>((resolve) => (sandboxReturned = resolve));
  const sandbox = Object.create(pool) as SandboxPool;
  sandbox.evaluate = (request, limits, hooks) => {
    events.push("sandbox asked to evaluate");
    const onEvaluating = () => {
      events.push("child evaluating");
      hooks?.onEvaluating?.();
    };
    const done = () => {
      events.push("sandbox returned");
      sandboxReturned();
    };
    return pool.evaluate(request, limits, { ...hooks, onEvaluating }).then(
      (run) => (done(), run),
      (error: unknown) => {
        done();
        throw error;
      },
    );
  };
  let published = 0;
  return {
    db: workerDb,
    storage,
    sandbox,
    datasets: new TaskDatasetCache(process.env.DATA_DIR!),
    workerId: "status-event-order-test",
    executionProvider: { provider: "cpu", deviceId: 0, intraOpThreads: 1 },
    publishStatus: async (submissionId) => {
      const first = published++ === 0;
      if (first) events.push("event requested");
      const { status } = await db.submission.findUniqueOrThrow({ where: { id: submissionId }, select: { status: true } });
      if (!first) {
        events.push(`event ${status}`);
        return;
      }
      await Promise.race([returned, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      events.push(`event ${status} out`);
    },
  };
}

beforeAll(async () => {
  const task = await taskWithDataset({ inputs: randomRows(40, WIDTH, 7), labels: int64Labels(Array.from({ length: 40 }, (_, i) => i % 3)) });
  taskId = task.id;
  slug = task.slug;
  const caller = await participantWithTeam();
  owner = { teamId: caller.team.id, userId: caller.user.id };
  storage = new DirectoryModelStorage(path.join(process.env.GOAT_TEST_ROOT!, uniqueName("models")));
  workerDb = createDb(process.env.DATABASE_URL!);
  pool = new SandboxPool({ maxSpare: 1, logger: { warn: () => undefined } });
});

afterAll(async () => {
  await pool?.close();
  await workerDb?.$disconnect();
});

describe("a submission's status events during its evaluation", () => {
  it("scored: RUNNING goes out once the child evaluates, SCORED after it", async () => {
    const model = buildLinearClassifier({ weights: new Float32Array(WIDTH * 3).fill(0.1), bias: new Float32Array(3), inDim: WIDTH, outDim: 3 });
    const id = await submissionOf(model);
    const events: string[] = [];
    const outcome = await evaluateSubmission(recordingContext(events), id);
    expect(outcome).toMatchObject({ outcome: "scored", submissionId: id });
    expect(events).toEqual(["sandbox asked to evaluate", "child evaluating", "event requested", "sandbox returned", "event RUNNING out", "event SCORED"]);
    if (outcome.outcome === "scored") expect(outcome.committedMs).toBeGreaterThanOrEqual(outcome.totalMs);
  });

  it("a participant's fault: the evaluation rejects only after RUNNING is out, so the caller's FAILED event follows it", async () => {
    const wrongInput = buildLinearClassifier({ weights: new Float32Array(WIDTH * 3), bias: new Float32Array(3), inDim: WIDTH, outDim: 3, inputName: "pixels" });
    const id = await submissionOf(wrongInput);
    const events: string[] = [];
    const error = await evaluateSubmission(recordingContext(events), id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParticipantFault);
    expect((error as ParticipantFault).code).toBe("WRONG_INPUT");
    expect(events).toEqual(["sandbox asked to evaluate", "child evaluating", "event requested", "sandbox returned", "event RUNNING out"]);
  });
});
