import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { db } from "@/lib/db";
import { createDb, type Db } from "../../worker/src/db";
import { claimSubmission } from "../../worker/src/evaluate-submission";
import { int64Labels, participantWithTeam, randomRows, taskWithDataset } from "./support/fixtures";

// The worker's claim (one round trip through claim_submission) against real Postgres: the per-team
// running limit holds under concurrent claims from separate connections, the claim returns what the
// evaluation reads, and finished, missing and stalled submissions are told apart.

const MAX_RUNNING = 2;
let task: Awaited<ReturnType<typeof taskWithDataset>>;
let team: Awaited<ReturnType<typeof participantWithTeam>>;
/** Worker processes each have their own pool: concurrent claims arrive on separate connections. */
const workerDbs: Db[] = [];

beforeAll(async () => {
  task = await taskWithDataset({ inputs: randomRows(10, 4, 7), labels: int64Labels([0, 1, 2, 0, 1, 2, 0, 1, 2, 0]), maxRunningPerTeam: MAX_RUNNING, batchSize: 3 });
  team = await participantWithTeam();
  for (let i = 0; i < 6; i++) workerDbs.push(createDb(process.env.DATABASE_URL!));
});

// Each test starts with none of the team's submissions running.
afterEach(async () => {
  await db.submission.updateMany({ where: { teamId: team.team.id, status: { in: ["QUEUED", "RUNNING"] } }, data: { status: "CANCELLED" } });
});

afterAll(async () => {
  await Promise.all(workerDbs.map((each) => each.$disconnect()));
});

async function queuedSubmission(status: "QUEUED" | "RUNNING" | "SCORED" = "QUEUED"): Promise<number> {
  const row = await db.submission.create({
    data: { taskId: task.id, teamId: team.team.id, userId: team.user.id, fileName: "m.onnx", sha256: "ab".repeat(32), sizeBytes: 1234, storageKey: `models/${task.slug}/x.onnx`, paramCount: 77n, status },
    select: { id: true },
  });
  return row.id;
}

it("lets a team have at most maxRunningPerTeam claimed at once, whatever the number of concurrent claims", async () => {
  const ids = await Promise.all(Array.from({ length: 12 }, () => queuedSubmission()));
  const outcomes = await Promise.all(ids.map((id, i) => claimSubmission({ db: workerDbs[i % workerDbs.length], workerId: `claim-test-${i}` }, id)));
  const claimed = outcomes.filter((each) => each.outcome === "claimed");
  expect(claimed).toHaveLength(MAX_RUNNING);
  expect(outcomes.filter((each) => each.outcome === "team-limit")).toHaveLength(ids.length - MAX_RUNNING);
  const rows = await db.submission.findMany({ where: { id: { in: ids } }, select: { id: true, status: true, attempts: true, workerId: true, datasetVersion: true } });
  const running = rows.filter((row) => row.status === "RUNNING");
  expect(running.map((row) => row.id).sort()).toEqual(claimed.map((each) => (each.outcome === "claimed" ? each.submission.id : 0)).sort());
  for (const row of running) {
    expect(row.attempts).toBe(1);
    expect(row.workerId).toMatch(/^claim-test-\d+$/);
    expect(row.datasetVersion).toBe(task.datasetVersion);
  }
  // The others are untouched: still QUEUED, no attempt spent.
  for (const row of rows.filter((each) => each.status !== "RUNNING")) expect(row).toMatchObject({ status: "QUEUED", attempts: 0, workerId: null, datasetVersion: null });
});

it("returns what the evaluation reads: the submission, the version the claim took and the task's settings", async () => {
  const id = await queuedSubmission();
  const claim = await claimSubmission({ db: workerDbs[0], workerId: "claim-test-read" }, id);
  expect(claim.outcome).toBe("claimed");
  if (claim.outcome !== "claimed") return;
  expect(claim.submission).toEqual({
    id,
    sha256: "ab".repeat(32),
    sizeBytes: 1234,
    storageKey: `models/${task.slug}/x.onnx`,
    paramCount: 77n,
    status: "RUNNING",
    datasetVersion: task.datasetVersion,
    task: {
      id: task.id,
      slug: task.slug,
      kind: "CLASSIFICATION",
      inputSpec: task.inputSpec,
      outputSpec: task.outputSpec,
      metrics: task.metrics,
      rankMetric: "accuracy",
      topK: task.topK,
      batchSize: 3,
      evalTimeoutMs: task.evalTimeoutMs,
      evalMemoryMb: task.evalMemoryMb,
      publicFraction: task.publicFraction,
      splitSeed: 42,
      datasetVersion: task.datasetVersion,
      direction: "MAXIMIZE",
      scoringVersion: task.scoringVersion,
      scoreFormula: null,
    },
  });
});

it("tells finished and missing submissions apart from a team at its limit, and takes a stalled RUNNING one again", async () => {
  const scored = await queuedSubmission("SCORED");
  expect(await claimSubmission({ db: workerDbs[0], workerId: "claim-test-gone" }, scored)).toEqual({ outcome: "gone", status: "SCORED" });
  expect(await db.submission.findUniqueOrThrow({ where: { id: scored }, select: { attempts: true, workerId: true } })).toEqual({ attempts: 0, workerId: null });
  expect(await claimSubmission({ db: workerDbs[0], workerId: "claim-test-gone" }, 2_000_000_000)).toEqual({ outcome: "gone", status: "MISSING" });

  // A worker that died mid-evaluation left its submission RUNNING: another worker takes it over.
  const stalled = await queuedSubmission("RUNNING");
  await db.submission.update({ where: { id: stalled }, data: { attempts: 1, workerId: "died" } });
  const again = await claimSubmission({ db: workerDbs[1], workerId: "claim-test-again" }, stalled);
  expect(again.outcome).toBe("claimed");
  expect(await db.submission.findUniqueOrThrow({ where: { id: stalled }, select: { attempts: true, workerId: true, status: true } })).toEqual({ attempts: 2, workerId: "claim-test-again", status: "RUNNING" });
});
