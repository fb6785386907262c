import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { writeNpyFile, type NdArray } from "@goat/contracts/dataset/npy";
import { addTeamMember, createTeam, createUser } from "@/lib/accounts/users";
import { createApiToken } from "@/lib/auth/api-token";
import { db } from "@/lib/db";
import { createTask, importDataset, type TaskConfigInput } from "@/lib/tasks/admin";

/** Builders of real rows (users, teams, tokens, tasks, datasets) for integration tests. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

export async function participantWithTeam(teamName = uniqueName("team")) {
  const email = `${uniqueName("user")}@test.local`;
  const user = await createUser({ email, name: "Test User", password: "test-password-1" });
  const team = await createTeam(teamName);
  await addTeamMember(team.id, user.id);
  const token = await createApiToken(user.id, "test");
  return { user, team, token: token.token, tokenId: token.id };
}

export async function taskWithDataset(config: Partial<TaskConfigInput> & { inputs: NdArray; labels: NdArray }) {
  const { inputs, labels, ...overrides } = config;
  const slug = overrides.slug ?? uniqueName("task").toLowerCase();
  const task = await createTask({
    slug,
    title: `Test task ${slug}`,
    kind: "CLASSIFICATION",
    inputSpec: [{ name: "input", dtype: "float32", shape: [-1, inputs.shape[1]] }],
    outputSpec: [{ name: "output", dtype: "float32", shape: [-1, 3] }],
    rankMetric: "accuracy",
    splitSeed: 42,
    ...overrides,
  });
  const staging = path.join(process.env.GOAT_TEST_ROOT!, "staging", slug);
  await fs.mkdir(staging, { recursive: true });
  await writeNpyFile(path.join(staging, "inputs.npy"), inputs);
  await writeNpyFile(path.join(staging, "labels.npy"), labels);
  await importDataset(slug, { inputs: path.join(staging, "inputs.npy"), labels: path.join(staging, "labels.npy") });
  return db.task.findUniqueOrThrow({ where: { id: task.id } });
}

/** Deterministic pseudo-random float32 rows in [-1, 1). */
export function randomRows(rows: number, width: number, seed: number): NdArray {
  let state = seed >>> 0;
  const data = new Float32Array(rows * width);
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    data[i] = (state / 2 ** 32) * 2 - 1;
  }
  return { dtype: "float32", shape: [rows, width], data };
}

export function int64Labels(values: number[]): NdArray {
  return { dtype: "int64", shape: [values.length], data: BigInt64Array.from(values.map(BigInt)) };
}

/** A small task for ranking tests: the dataset is never evaluated, only its scores are stored. */
export function rankingTask(overrides: Partial<TaskConfigInput> = {}) {
  return taskWithDataset({ inputs: randomRows(20, 4, 1), labels: int64Labels(Array.from({ length: 20 }, (_, i) => i % 3)), ...overrides });
}

/**
 * A scored submission, stored as worker/src/evaluate-submission.ts stores it: created RUNNING, then
 * SCORED and its result in one transaction (the leaderboard triggers see exactly that), with its
 * scores stored bit for bit.
 */
export async function scoredSubmission(input: { taskId: number; teamId: number; userId: number; publicScore: number; privateScore: number; createdAt?: Date }): Promise<number> {
  const { id } = await db.submission.create({
    data: {
      taskId: input.taskId, teamId: input.teamId, userId: input.userId, fileName: "m.onnx", sha256: "ab".repeat(32), sizeBytes: 1,
      storageKey: uniqueName("k"), paramCount: 1, status: "RUNNING", ...(input.createdAt ? { createdAt: input.createdAt } : {}),
    },
    select: { id: true },
  });
  await db.$transaction(async (tx) => {
    await tx.submission.update({ where: { id }, data: { status: "SCORED", finishedAt: new Date() } });
    // The scores go in as text: Prisma sends a Float parameter rounded to 15 significant digits
    // (0.1 + 0.2 arrives as 0.3), and these tests need the exact doubles they rank.
    await tx.$executeRaw`
      INSERT INTO results (submission_id, public_metrics, private_metrics, public_score, private_score, latency_p50_ms, latency_p95_ms, model_bytes, param_count, receipt)
      VALUES (${id}, '{}', '{}', ${String(input.publicScore)}::float8, ${String(input.privateScore)}::float8, 1, 1, 1, 1, '{}')`;
  });
  return id;
}
