// Demo data: `npm run db:seed`. Idempotent: running it again keeps what exists and prints fresh tokens.
// Creates the MNIST task `task2` (so the seed README's curl lines work verbatim), its hidden test
// set and downloadable training set, an admin, a demo participant in a demo team with an API token,
// and a baseline model that the project trains itself, submitted by the demo team through the
// normal upload path (so it is submission 1, and the leaderboard is not empty).
import { openAsBlob } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { addTeamMember, createTeam, createUser } from "@/lib/accounts/users";
import { createApiToken } from "@/lib/auth/api-token";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { submitModel } from "@/lib/intake/submit-model";
import { createTask, importDataset, type TaskConfigInput } from "@/lib/tasks/admin";
import { prepareDemo } from "@/tools/demo/prepare";

export const DEMO = {
  admin: { email: "admin@mls-goat.local", name: "Organiser", password: "admin-demo-pass", role: "ADMIN" as const },
  participant: { email: "alice@mls-goat.local", name: "Alice", password: "alice-demo-pass", role: "PARTICIPANT" as const },
  demoTeam: "Demo Team",
};

const TASK2: TaskConfigInput = {
  slug: "task2",
  title: "Handwritten digits (MNIST)",
  description: [
    "Classify 28x28 grey-scale images of handwritten digits (0-9).",
    "",
    "Input `input`: float32 [N, 784], the image's pixels row by row, scaled to [0, 1].",
    "Output `output`: float32 [N, 10], one score per digit; the highest score is the prediction.",
    "",
    "Ranked by accuracy on the hidden test set. The training set (train.npz: x float32 [N, 784], y int64 [N]) is public.",
  ].join("\n"),
  kind: "CLASSIFICATION",
  inputSpec: [{ name: "input", dtype: "float32", shape: [-1, 784] }],
  outputSpec: [{ name: "output", dtype: "float32", shape: [-1, 10] }],
  metrics: ["accuracy", "macro_f1", "top_k"],
  rankMetric: "accuracy",
  direction: "MAXIMIZE",
  topK: 3,
  maxModelBytes: 50 * 1024 * 1024,
  dailySubmissionLimit: 20,
  evalTimeoutMs: 60_000,
  evalMemoryMb: 2_048,
  batchSize: 500,
  publicFraction: 0.5,
  splitSeed: 20261128,
  // The demo task has no opening time, so by default its team changes would close at once for the
  // demo team (it has the baseline submission): leave a fortnight to invite team-mates to it.
  teamMergeDeadline: new Date(Date.now() + 14 * 24 * 3600 * 1000),
};

async function ensureUser(user: typeof DEMO.admin | typeof DEMO.participant) {
  return (await db.user.findUnique({ where: { email: user.email }, select: { id: true } })) ?? createUser(user);
}

async function ensureTeam(name: string, userId: number) {
  const team = (await db.team.findUnique({ where: { name }, select: { id: true, inviteCode: true } })) ?? (await createTeam(name));
  await addTeamMember(team.id, userId);
  return team;
}

/** Seed tokens are re-issued on every run (only their hash is stored, so the old secret cannot be printed again). */
async function freshToken(userId: number, name: string) {
  await db.apiToken.updateMany({ where: { userId, name, revokedAt: null }, data: { revokedAt: new Date() } });
  return (await createApiToken(userId, name)).token;
}

/** The demo team's first submission is the baseline, so `/submit/task2/status/1` answers the demo token. */
async function submitBaseline(baselinePath: string, userId: number, teamId: number) {
  const already = await db.submission.count({ where: { teamId, task: { slug: "task2" } } });
  if (already > 0) return null;
  const form = new FormData();
  form.append("file", await openAsBlob(baselinePath), "baseline.onnx");
  const request = new Request("http://seed.local/submit/task2", { method: "POST", body: form });
  return submitModel(request, { userId, role: "PARTICIPANT", teamId, tokenId: null }, "task2");
}

export async function seedDemo() {
  const demoDir = path.resolve(process.env.DEMO_DIR ?? "var/demo");
  const staging = path.join(demoDir, "staging");
  const prepared = await prepareDemo({ dataDir: staging, outDir: demoDir });

  if (!(await db.task.findUnique({ where: { slug: "task2" }, select: { id: true } }))) await createTask(TASK2);
  const datasetDir = path.join(staging, "task2");
  const dataset = await importDataset("task2", {
    inputs: path.join(datasetDir, "inputs.npy"),
    labels: path.join(datasetDir, "labels.npy"),
    train: path.join(datasetDir, "train.npz"),
  });
  await fs.rm(staging, { recursive: true, force: true });

  const admin = await ensureUser(DEMO.admin);
  const participant = await ensureUser(DEMO.participant);
  const demoTeam = await ensureTeam(DEMO.demoTeam, participant.id);
  const participantToken = await freshToken(participant.id, "demo-seed");
  const adminToken = await freshToken(admin.id, "demo-seed");
  const baseline = await submitBaseline(prepared.baselinePath, participant.id, demoTeam.id);

  const summary = {
    task: "task2",
    testRows: dataset.rows,
    trainRows: prepared.trainRows,
    dataDir: env().DATA_DIR,
    baselineModel: prepared.baselinePath,
    baselineTestAccuracy: Number(prepared.testAccuracy.toFixed(4)),
    baselineSubmission: baseline ? baseline.id : "already submitted",
    admin: { email: DEMO.admin.email, password: DEMO.admin.password, token: adminToken },
    participant: { email: DEMO.participant.email, password: DEMO.participant.password, team: DEMO.demoTeam, inviteCode: demoTeam.inviteCode, token: participantToken },
  };
  await fs.writeFile(path.join(demoDir, "credentials.json"), JSON.stringify(summary, null, 2) + "\n", { mode: 0o600 });
  return summary;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.dirname, "seed.ts")) {
  seedDemo()
    .then((summary) => console.log(JSON.stringify(summary, null, 2)))
    .catch((error) => {
      console.error(error);
      process.exitCode = 1;
    })
    .finally(async () => {
      await db.$disconnect();
      const { evaluationQueue } = await import("@/lib/queue/evaluation-queue");
      await evaluationQueue().close();
      process.exit();
    });
}
