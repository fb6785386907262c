import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { evaluationJobId } from "@goat/contracts/evaluation-job";
import { db } from "@/lib/db";
import { evaluationQueue } from "@/lib/queue/evaluation-queue";
import { buildMlp } from "@/tools/onnx/build-model";
import { truncateBytes } from "@/tests/support/onnx/failing-models";
import { buildCustomDomainModel, buildExternalDataModel } from "@/tests/support/onnx/hostile-models";
import { int64Labels, participantWithTeam, randomRows, taskWithDataset, uniqueName } from "./support/fixtures";
import { upload } from "./support/upload";

// The intake check, through the real route handler: every refusal answers its status, code and a
// message saying what is wrong and what was expected, and leaves nothing in storage or the queue.

const ROWS = 60;
let task: Awaited<ReturnType<typeof taskWithDataset>>;
let caller: Awaited<ReturnType<typeof participantWithTeam>>;
const goodModel = () => buildMlp({ sizes: [784, 16, 10], seed: 1 });

async function queueJobCount(): Promise<number> {
  const counts = await evaluationQueue().getJobCounts("waiting", "active", "delayed", "prioritized", "completed", "failed");
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

async function storedFiles(): Promise<number> {
  const root = path.join(process.env.STORAGE_DIR!, "models", task.slug);
  return (await fs.readdir(root).catch(() => [])).length;
}

async function expectRefusal(response: { status: number; body: { error?: { code: string; message: string } } }, status: number, code: string, message: RegExp) {
  expect(response.status).toBe(status);
  expect(response.body.error?.code).toBe(code);
  expect(response.body.error?.message).toMatch(message);
}

beforeAll(async () => {
  task = await taskWithDataset({
    inputs: randomRows(ROWS, 784, 7),
    labels: int64Labels(Array.from({ length: ROWS }, (_, i) => i % 10)),
    outputSpec: [{ name: "output", dtype: "float32", shape: [-1, 10] }],
    maxModelBytes: 200_000,
    dailySubmissionLimit: 3,
  });
  caller = await participantWithTeam();
});

afterAll(async () => {
  await evaluationQueue().close();
});

describe("refused uploads store nothing and queue nothing", () => {
  let jobsBefore: number;
  let rowsBefore: number;
  let filesBefore: number;

  beforeEach(async () => {
    jobsBefore = await queueJobCount();
    rowsBefore = await db.submission.count();
    filesBefore = await storedFiles();
  });

  async function expectNothingStored() {
    expect(await queueJobCount()).toBe(jobsBefore);
    expect(await db.submission.count()).toBe(rowsBefore);
    expect(await storedFiles()).toBe(filesBefore);
    expect(await fs.readdir(process.env.UPLOAD_TMP_DIR!).catch(() => [])).toEqual([]);
  }

  it("answers 401 without a token or session, with a malformed header, and with an unknown token", async () => {
    await expectRefusal(await upload(task.slug, null, goodModel()), 401, "UNAUTHORIZED", /Sign in, or send `Authorization: Bearer YOUR_TOKEN`/);
    await expectRefusal(await upload(task.slug, "Basic dXNlcjpwYXNz", goodModel()), 401, "UNAUTHORIZED", /must use the Bearer scheme/);
    await expectRefusal(await upload(task.slug, "not-a-real-token", goodModel()), 401, "UNAUTHORIZED", /not valid/);
    await expectNothingStored();
  });

  it("answers 401 for an expired or revoked token", async () => {
    const expired = await db.apiToken.create({
      data: { userId: caller.user.id, name: "old", tokenHash: (await import("@/lib/auth/api-token")).hashApiToken("goat_expired"), prefix: "goat_e", expiresAt: new Date(Date.now() - 1000) },
    });
    await expectRefusal(await upload(task.slug, "goat_expired", goodModel()), 401, "UNAUTHORIZED", /expired at/);
    await db.apiToken.update({ where: { id: expired.id }, data: { expiresAt: null, revokedAt: new Date() } });
    await expectRefusal(await upload(task.slug, "goat_expired", goodModel()), 401, "UNAUTHORIZED", /revoked/);
    await expectNothingStored();
  });

  it("answers 404 for an unknown task", async () => {
    await expectRefusal(await upload("no-such-task", caller.token, goodModel()), 404, "TASK_NOT_FOUND", /There is no task "no-such-task"/);
    await expectNothingStored();
  });

  it("answers 403 for a closed task, naming when it closed", async () => {
    const closed = await taskWithDataset({ inputs: randomRows(10, 784, 1), labels: int64Labels(Array(10).fill(1)), outputSpec: [{ name: "output", dtype: "float32", shape: [-1, 10] }], closesAt: new Date(Date.now() - 60_000), opensAt: new Date(Date.now() - 3_600_000) });
    const response = await upload(closed.slug, caller.token, goodModel());
    await expectRefusal(response, 403, "TASK_CLOSED", /closed at .*takes no more submissions/);
    await expectNothingStored();
  });

  it("answers 413 for a model over the size cap", async () => {
    const big = buildMlp({ sizes: [784, 128, 10], seed: 2 }); // ~400 KB > 200,000 bytes
    expect(big.byteLength).toBeGreaterThan(200_000);
    const response = await upload(task.slug, caller.token, big);
    await expectRefusal(response, 413, "PAYLOAD_TOO_LARGE", /larger than this task's limit of 195\.3 KB/);
    expect(response.body.error.limitBytes).toBe(200_000);
    await expectNothingStored();
  });

  it("answers 422 for a file that is not ONNX, and for a truncated model", async () => {
    await expectRefusal(await upload(task.slug, caller.token, new TextEncoder().encode("this is a text file, not a model"), "notes.txt"), 422, "NOT_ONNX", /ONNX/);
    await expectRefusal(await upload(task.slug, caller.token, truncateBytes(goodModel(), 0.5)), 422, "TRUNCATED_MODEL", /truncated|incomplete/i);
    await expectNothingStored();
  });

  it("answers 422 when inputs, outputs or shapes do not fit the task, naming expected and found", async () => {
    const wrongWidth = await upload(task.slug, caller.token, buildMlp({ sizes: [100, 16, 10], seed: 3 }));
    await expectRefusal(wrongWidth, 422, "SIGNATURE_MISMATCH", /\[N, 100\].*expects \[N, 784\]/);
    expect(wrongWidth.body.error.expected).toMatchObject({ dtype: "float32", shape: [expect.any(Number), 784] });
    expect(wrongWidth.body.error.found).toEqual({ name: "input", dtype: "float32", shape: ["N", 100] });

    const wrongOutputs = await upload(task.slug, caller.token, buildMlp({ sizes: [784, 16, 3], seed: 3 }));
    await expectRefusal(wrongOutputs, 422, "SIGNATURE_MISMATCH", /\[N, 3\].*expects \[N, 10\]/);

    const fixedBatch = await upload(task.slug, caller.token, buildMlp({ sizes: [784, 16, 10], seed: 3, fixedBatch: 1 }));
    await expectRefusal(fixedBatch, 422, "SIGNATURE_MISMATCH", /batch dimension/i);

    const wrongDtype = await upload(task.slug, caller.token, buildMlp({ sizes: [784, 16, 10], seed: 3, inputDtype: "float64" }));
    await expectRefusal(wrongDtype, 422, "SIGNATURE_MISMATCH", /float64.*float32|float32.*float64/);
    await expectNothingStored();
  });

  it("answers 422 for external-data tensors and for operators outside the default domains", async () => {
    await expectRefusal(await upload(task.slug, caller.token, buildExternalDataModel()), 422, "EXTERNAL_DATA", /external/i);
    await expectRefusal(await upload(task.slug, caller.token, buildCustomDomainModel()), 422, "UNSUPPORTED_OPERATOR_DOMAIN", /com\.example\.custom/);
    await expectNothingStored();
  });

  it("answers 400 when the multipart field `file` is missing", async () => {
    await expectRefusal(await upload(task.slug, caller.token, null), 400, "MISSING_FILE", /field "file"/);
    await expectNothingStored();
  });

  it("answers 403 to a user without a team", async () => {
    const { createUser } = await import("@/lib/accounts/users");
    const { createApiToken } = await import("@/lib/auth/api-token");
    const loner = await createUser({ email: `${uniqueName("loner")}@test.local`, name: "Loner", password: "test-password-1" });
    const token = await createApiToken(loner.id, "t");
    await expectRefusal(await upload(task.slug, token.token, goodModel()), 403, "NO_TEAM", /not in a team/);
    await expectNothingStored();
  });
});

describe("accepted uploads", () => {
  it("answers 202 with the id, status URL, queue position and quota, stores the model and queues one job", async () => {
    const model = goodModel();
    const response = await upload(task.slug, caller.token, model, "my-model.onnx");
    expect(response.status).toBe(202);
    const id = response.body.id as number;
    expect(response.body).toMatchObject({
      task: task.slug,
      status: "QUEUED",
      statusUrl: `/submit/${task.slug}/status/${id}`,
      fileName: "my-model.onnx",
      sizeBytes: model.byteLength,
      quota: { limit: 3, used: 1, remaining: 2 },
    });
    expect(response.body.queuePosition).toBeGreaterThanOrEqual(1);
    expect(response.headers.get("location")).toBe(`/submit/${task.slug}/status/${id}`);

    const row = await db.submission.findUniqueOrThrow({ where: { id } });
    expect(row.status).toBe("QUEUED");
    expect(row.paramCount).toBe(BigInt(784 * 16 + 16 + 16 * 10 + 10));
    expect(await storedFiles()).toBe(1);
    const job = await evaluationQueue().getJob(evaluationJobId(id));
    expect(job?.data).toEqual({ submissionId: id, reason: "upload" });
  });

  it("adding the same submission's job twice is a no-op", async () => {
    const { enqueueEvaluation } = await import("@/lib/queue/evaluation-queue");
    const last = await db.submission.findFirstOrThrow({ orderBy: { id: "desc" } });
    const before = await queueJobCount();
    await enqueueEvaluation(last.id, "upload");
    await enqueueEvaluation(last.id, "upload");
    expect(await queueJobCount()).toBe(before);
  });

  it("answers 429 with the reset time once the team's daily quota is used, and stores nothing", async () => {
    await upload(task.slug, caller.token, buildMlp({ sizes: [784, 16, 10], seed: 11 }));
    await upload(task.slug, caller.token, buildMlp({ sizes: [784, 16, 10], seed: 12 }));
    const rowsBefore = await db.submission.count();
    const response = await upload(task.slug, caller.token, buildMlp({ sizes: [784, 16, 10], seed: 13 }));
    const tomorrow = new Date();
    tomorrow.setUTCHours(24, 0, 0, 0);
    await expectRefusal(response, 429, "QUOTA_EXCEEDED", new RegExp(`all 3 submissions .* resets at ${tomorrow.toISOString().replace(/[.]/g, "\\.")}`));
    expect(response.body.error.quota).toEqual({ limit: 3, used: 3, usedInOtherTeams: 0, remaining: 0, resetsAt: tomorrow.toISOString() });
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await db.submission.count()).toBe(rowsBefore);
  });

  it("a submission that failed for a platform fault gives its quota back", async () => {
    const last = await db.submission.findFirstOrThrow({ where: { teamId: caller.team.id }, orderBy: { id: "desc" } });
    await db.submission.update({ where: { id: last.id }, data: { status: "FAILED", failureKind: "PLATFORM" } });
    const response = await upload(task.slug, caller.token, buildMlp({ sizes: [784, 16, 10], seed: 14 }));
    expect(response.status).toBe(202);
    expect(response.body.quota.remaining).toBe(0);
  });
});
