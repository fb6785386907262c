import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setQueuePaused } from "@/lib/admin/controls";
import type { SessionUser } from "@/lib/auth/session";
import { createUser } from "@/lib/accounts/users";
import { db } from "@/lib/db";
import { evaluationQueue } from "@/lib/queue/evaluation-queue";
import { buildLinearClassifier } from "@/tools/onnx/build-model";
import { buildHangingModel } from "@/tests/support/onnx/failing-models";
import { int64Labels, participantWithTeam, randomRows, taskWithDataset, uniqueName } from "./support/fixtures";
import { submissionStatus, upload } from "./support/upload";
import { waitFor, waitForFinalStatus } from "./support/wait";
import { dropJobsLeftByEarlierFiles } from "./support/shared-queue";
import { startWorker, type WorkerProcess } from "./support/worker-process";

// The fair queue against real Postgres, Redis and worker processes: round-robin across teams, the
// per-team running limit, positions that are the real start order, and kill -9 of a worker.

const MAX_RUNNING = 2;
let admin: SessionUser;
let slug: string;
const teams: Record<"big" | "b" | "c", { token: string; teamId: number }> = {} as never;
const workers: WorkerProcess[] = [];
let modelSeed = 0;

/** A distinct small model each time (a different bias), so every upload is a new file. */
function nextModel(): Uint8Array {
  modelSeed++;
  const weights = new Float32Array(784 * 10);
  for (let j = 0; j < 10; j++) weights[j * 10 + j] = 1;
  const bias = new Float32Array(10);
  bias[modelSeed % 10] = 0.0001 * modelSeed;
  return buildLinearClassifier({ weights, bias, inDim: 784, outDim: 10 });
}

/**
 * A distinct model whose evaluation lasts a while (a Loop of small matmuls, ~0.5 s here): the
 * evaluations of the tiny models take some milliseconds, too short a moment for a status poll to
 * find its team at the running limit.
 */
function nextSlowModel(): Uint8Array {
  modelSeed++;
  return buildHangingModel({ tripCount: 100_000n + BigInt(modelSeed) });
}

async function submit(team: keyof typeof teams, model = nextModel()): Promise<{ id: number; position: number }> {
  const accepted = await upload(slug, teams[team].token, model);
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
  return { id: accepted.body.id as number, position: accepted.body.queuePosition as number };
}

/** The largest number of a team's evaluations that overlapped in time (from startedAt/finishedAt). */
function maxOverlap(rows: { startedAt: Date | null; finishedAt: Date | null }[]): number {
  const edges = rows.flatMap((row) => [
    { at: row.startedAt!.getTime(), delta: 1 },
    { at: row.finishedAt!.getTime(), delta: -1 },
  ]);
  // An end and a start at the same millisecond do not overlap: ends first.
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let running = 0;
  let max = 0;
  for (const edge of edges) max = Math.max(max, (running += edge.delta));
  return max;
}

beforeAll(async () => {
  // Integration files share one database and queue: submissions that earlier files queued and never
  // ran would take places in the order under test (positions count every QUEUED row). Their files
  // are done: cancel the rows and drop the jobs.
  await db.submission.updateMany({ where: { status: "QUEUED" }, data: { status: "CANCELLED", message: "Left by an earlier test file." } });
  await dropJobsLeftByEarlierFiles();
  const user = await createUser({ email: `${uniqueName("admin")}@test.local`, name: "Organiser", password: "admin-password-1", role: "ADMIN" });
  admin = { id: user.id, email: user.email, name: user.name, role: "ADMIN", team: null };
  const task = await taskWithDataset({
    inputs: randomRows(200, 784, 7),
    labels: int64Labels(Array.from({ length: 200 }, (_, i) => i % 10)),
    outputSpec: [{ name: "output", dtype: "float32", shape: [-1, 10] }],
    batchSize: 200,
    dailySubmissionLimit: 100,
    maxRunningPerTeam: MAX_RUNNING,
  });
  slug = task.slug;
  for (const name of ["big", "b", "c"] as const) {
    const participant = await participantWithTeam();
    teams[name] = { token: participant.token, teamId: participant.team.id };
  }
});

afterAll(async () => {
  await setQueuePaused(admin, false).catch(() => {});
  await Promise.all(workers.map((worker) => worker.stop("SIGKILL")));
  await evaluationQueue().close();
});

describe("fair scheduling across teams", () => {
  it("one team's twenty uploads wait behind the other teams' firsts, and the reported positions are the start order", async () => {
    await setQueuePaused(admin, true);
    workers.push(await startWorker("fair-worker-1", {}, 120_000));
    const big = [];
    for (let i = 0; i < 20; i++) big.push(await submit("big"));
    const b = [await submit("b"), await submit("b")];
    const c = [await submit("c"), await submit("c")];
    // Round-robin: every team's 1st, then every team's 2nd, then the big team's 3rd to 20th.
    const expected = [big[0], b[0], c[0], big[1], b[1], c[1], ...big.slice(2)].map((s) => s.id);
    // What each upload was told: the last upload's position counts everything ahead of it.
    expect(c[1].position).toBe(6);
    expect(big.map((s) => s.position)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

    // The status answers, before anything runs: positions in the fair order, the pause in words.
    const team = (id: number) => (b.some((s) => s.id === id) ? "b" : c.some((s) => s.id === id) ? "c" : "big");
    const reported = [];
    for (const id of expected) {
      const answer = await submissionStatus(slug, id, teams[team(id)].token);
      expect(answer.status).toBe(200);
      reported.push(answer.body.queuePosition as number);
      expect(answer.body.waitReasons.map((r: { code: string }) => r.code)).toContain("QUEUE_PAUSED");
      expect(answer.body.etaSeconds).toBeNull(); // paused, and no evaluation of this task yet
    }
    expect(reported).toEqual(Array.from({ length: expected.length }, (_, i) => i + 1));

    await setQueuePaused(admin, false);
    const ids = [...big, ...b, ...c].map((s) => s.id);
    for (const id of ids) expect((await waitForFinalStatus(id, 180_000)).status).toBe("SCORED");
    const started = await db.submission.findMany({ where: { id: { in: ids } }, orderBy: { startedAt: "asc" }, select: { id: true, attempts: true } });
    // One worker: the start order is the order the positions promised.
    expect(started.map((row) => row.id)).toEqual(expected);
    expect(started.every((row) => row.attempts === 1)).toBe(true);
    expect(await db.result.count({ where: { submissionId: { in: ids } } })).toBe(ids.length);

    // With results in, a queued submission gets an ETA from the task's evaluation times.
    await setQueuePaused(admin, true);
    const waiting = await submit("b");
    const answer = await submissionStatus(slug, waiting.id, teams.b.token);
    expect(answer.body.queuePosition).toBe(1);
    expect(answer.body.etaSeconds).toBeNull(); // paused: no promise
    await setQueuePaused(admin, false);
    await waitForFinalStatus(waiting.id, 60_000);
  }, 600_000);

  it(`a team never has more than ${MAX_RUNNING} evaluations running, with idle workers to spare, and waiting costs no attempt`, async () => {
    workers.push(await startWorker("fair-worker-2", {}, 120_000), await startWorker("fair-worker-3", {}, 120_000));
    // All eight wait first, so that three idle workers go for them at once.
    await setQueuePaused(admin, true);
    const ids: number[] = [];
    for (let i = 0; i < 8; i++) ids.push((await submit("big", nextSlowModel())).id);
    await setQueuePaused(admin, false);
    // While its team is at the limit, a waiting submission says so.
    const atLimit = await waitFor("a submission waiting on its team's limit", async () => {
      for (const id of ids) {
        const answer = await submissionStatus(slug, id, teams.big.token);
        // With an ETA: once one of the task's evaluations has finished, the wait has a typical duration.
        if (answer.body.waitReasons?.some((r: { code: string }) => r.code === "TEAM_AT_LIMIT") && answer.body.etaSeconds !== null) return answer.body;
      }
      return null;
    }, 60_000);
    expect(atLimit.status).toBe("QUEUED");
    expect(atLimit.etaSeconds).toEqual(expect.any(Number));

    for (const id of ids) expect((await waitForFinalStatus(id, 180_000)).status).toBe("SCORED");
    const rows = await db.submission.findMany({ where: { id: { in: ids } }, select: { startedAt: true, finishedAt: true, attempts: true } });
    expect(maxOverlap(rows)).toBeLessThanOrEqual(MAX_RUNNING);
    expect(rows.map((row) => row.attempts)).toEqual(Array(ids.length).fill(1));
  }, 400_000);

  it("kill -9 of a worker mid-run: every submission is scored exactly once", async () => {
    const ids: number[] = [];
    // Models that run ~0.5 s: a tiny model's evaluation (some milliseconds) can start and end
    // between two polls below, all eight of them (it failed so once the worker was built, faster).
    for (let i = 0; i < 4; i++) ids.push((await submit("big", nextSlowModel())).id, (await submit("c", nextSlowModel())).id);
    const victim = await waitFor("a worker evaluating one of them", async () => {
      const running = await db.submission.findFirst({ where: { id: { in: ids }, status: "RUNNING" }, select: { workerId: true } });
      return workers.find((worker) => worker.id === running?.workerId);
    }, 60_000);
    // The other two workers take over its job once its lock expires (3 s in tests).
    await victim.stop("SIGKILL");

    for (const id of ids) expect((await waitForFinalStatus(id, 180_000)).status).toBe("SCORED");
    expect(await db.result.count({ where: { submissionId: { in: ids } } })).toBe(ids.length);
    const results = await db.result.groupBy({ by: ["submissionId"], where: { submissionId: { in: ids } }, _count: true });
    expect(results.every((group) => group._count === 1)).toBe(true);
  }, 400_000);
});
