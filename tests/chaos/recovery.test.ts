import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reportRecovery, startChaosPlatform, type ChaosPlatform } from "./support/chaos-platform";

// Each fault of issue 13's table, done for real against private Postgres and Redis instances, with
// two worker processes and at least 30 submissions in flight. Every submission must end SCORED with
// exactly one result and the attempts the fault explains; nothing may stay QUEUED or RUNNING. The
// recovery time is reported (bench/recovery.bench.ts collects it) and asserted with a generous
// bound: the CPU here is shared, so the goals themselves are for the bench, not for an assertion.

const IN_FLIGHT = Number(process.env.CHAOS_SUBMISSIONS ?? 30);
// A Postgres outage longer than a job's whole backoff (2 + 4 + 8 s), as in the report.
const PG_OUTAGE_MS = Number(process.env.CHAOS_PG_OUTAGE_MS ?? 16_000);
// The generous bounds (the goals are 15 s, 45 s, 10 s and 15 s).
const BOUND = { killed: 60, killedThrice: 150, redis: 30, postgres: 60 };

let p: ChaosPlatform;
let web: {
  upload: typeof import("../integration/support/upload").upload;
  submissionStatus: typeof import("../integration/support/upload").submissionStatus;
  waitFor: typeof import("../integration/support/wait").waitFor;
  hasLiveJob: typeof import("@/lib/queue/evaluation-queue").hasLiveJob;
  buildHangingModel: typeof import("@/tests/support/onnx/failing-models").buildHangingModel;
};
let slug: string;
let token: string;

beforeAll(async () => {
  p = await startChaosPlatform();
  const fixtures = await import("../integration/support/fixtures");
  const { upload, submissionStatus } = await import("../integration/support/upload");
  const { waitFor } = await import("../integration/support/wait");
  const { hasLiveJob } = await import("@/lib/queue/evaluation-queue");
  const { buildHangingModel } = await import("@/tests/support/onnx/failing-models");
  web = { upload, submissionStatus, waitFor, hasLiveJob, buildHangingModel };
  const task = await fixtures.taskWithDataset({
    inputs: fixtures.randomRows(50, 784, 11),
    labels: fixtures.int64Labels(Array.from({ length: 50 }, (_, i) => i % 10)),
    outputSpec: [{ name: "output", dtype: "float32", shape: [-1, 10] }],
    batchSize: 50,
    dailySubmissionLimit: 1_000,
    evalTimeoutMs: 120_000,
  });
  slug = task.slug;
  token = (await fixtures.participantWithTeam()).token;
  await Promise.all([p.startWorker("chaos-a"), p.startWorker("chaos-b")]);
}, 180_000);

afterAll(async () => {
  await p?.stop();
});

/**
 * A finite model whose evaluation lasts a while (a Loop of small matmuls); bigger trips, longer. By
 * default ~0.5 s, longer than an upload, so that the uploads outrun the two workers and the
 * submissions are really in flight when a fault comes: at 20,000 trips (~0.1 s) the built workers
 * kept up with the uploads, and a run found no submission of the thirty still running.
 */
async function submit(count: number, tripCount = 100_000n): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const accepted = await web.upload(slug, token, web.buildHangingModel({ tripCount: tripCount + BigInt(i) }));
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    ids.push(accepted.body.id as number);
  }
  return ids;
}

async function rows(ids: number[]) {
  return p.db.submission.findMany({ where: { id: { in: ids } }, select: { id: true, status: true, attempts: true, workerId: true }, orderBy: { id: "asc" } });
}

async function waitAllScored(ids: number[], timeoutMs: number) {
  return web.waitFor(
    `${ids.length} submissions to finish`,
    async () => {
      const current = await rows(ids).catch(() => []);
      return current.length === ids.length && current.every((row) => row.status === "SCORED" || row.status === "FAILED") ? current : null;
    },
    timeoutMs,
  );
}

/**
 * Every submission SCORED with one result, each with the attempts expected: 1 unless listed, plus one
 * for each platform fault a worker logged for it and retried (on this shared, loaded CPU a sandbox
 * process was once not ready within its 30 s: SANDBOX_START_TIMEOUT, retried as the product promises;
 * since then the time it waits for a CPU does not count: worker/src/sandbox/own-time-deadline.ts);
 * an attempt nothing explains fails. A function where the count may legitimately vary.
 */
async function expectScoredOnce(ids: number[], attempts: Record<number, number> | ((id: number, attempts: number) => boolean) = {}) {
  const finals = await waitAllScored(ids, 240_000);
  expect(finals.map((row) => [row.id, row.status])).toEqual(ids.map((id) => [id, "SCORED"]));
  if (typeof attempts === "function") for (const row of finals) expect(attempts(row.id, row.attempts), `attempts of submission ${row.id}: ${row.attempts}\n${workerLines(row.id)}`).toBe(true);
  else {
    const expected = (id: number) => (attempts[id] ?? 1) + retriedPlatformFaults(id);
    const unexpected = finals.filter((row) => row.attempts !== expected(row.id)).map((row) => row.id);
    expect(finals.map((row) => [row.id, row.attempts]), unexpected.map(workerLines).join("\n")).toEqual(ids.map((id) => [id, expected(id)]));
  }
  const results = await p.db.result.groupBy({ by: ["submissionId"], where: { submissionId: { in: ids } }, _count: true });
  expect(results).toHaveLength(ids.length);
  expect(results.every((group) => group._count === 1)).toBe(true);
  // Nothing stuck anywhere: no submission of the run left QUEUED or RUNNING.
  expect(await p.db.submission.count({ where: { status: { in: ["QUEUED", "RUNNING"] } } })).toBe(0);
}

/** The platform faults the workers (killed ones too) logged for the submission with a retry to come. */
function retriedPlatformFaults(id: number): number {
  return p.everyWorker.flatMap((worker) => worker.logRecords()).filter((record) => record.submissionId === id && record.err?.type === "PlatformFault" && record.status === "QUEUED").length;
}

/** The log lines of every worker process so far (killed ones too) that name the submission: what a failed attempts assertion shows. */
function workerLines(id: number): string {
  const names = new RegExp(`(submission\\D{0,4}|"submissionId":)${id}\\b`);
  const lines = p.everyWorker.flatMap((worker, n) => worker.output().split("\n").filter((line) => names.test(line)).map((line) => `${worker.id} (process ${n + 1}): ${line}`));
  return `the workers' lines about submission ${id}:\n${lines.slice(-40).join("\n")}`;
}

const seconds = (since: number) => (Date.now() - since) / 1000;

describe("faults with real restarts, two workers, 30 submissions in flight", () => {
  it("kill -9 of a worker mid-evaluation: its job finishes on the other worker, every submission scored once", async () => {
    const ids = await submit(IN_FLIGHT);
    const worker = p.workers.get("chaos-a")!;
    // Frozen (SIGSTOP) before it is read and killed: what it holds RUNNING once frozen is what the
    // kill interrupts. Read first and killed after, a submission could commit in between (a CI run at
    // 2fbc181: read RUNNING, scored by chaos-a on attempt 1, its log line lost with the kill).
    const victim = await web.waitFor(
      "a submission running on chaos-a, the worker frozen",
      async () => {
        if (!(await rows(ids)).some((row) => row.status === "RUNNING" && row.workerId === "chaos-a")) return undefined;
        worker.child.kill("SIGSTOP");
        await new Promise((resolve) => setTimeout(resolve, 500)); // a write it had sent lands
        const held = (await rows(ids)).find((row) => row.status === "RUNNING" && row.workerId === "chaos-a");
        if (!held) worker.child.kill("SIGCONT"); // between two jobs: let it take the next one
        return held;
      },
      120_000,
    );
    const killedAt = Date.now();
    await worker.stop("SIGKILL");
    const rescued = await web.waitFor(
      `submission ${victim.id} to be scored elsewhere`,
      async () => (await rows([victim.id]))[0].status === "SCORED",
      BOUND.killed * 1000,
    );
    expect(rescued).toBe(true);
    await reportRecovery("kill -9 of a worker mid-evaluation -> the job finished elsewhere", seconds(killedAt));
    // The killed worker comes back (as compose restarts it) and helps with the rest.
    await p.startWorker("chaos-a");
    await expectScoredOnce(ids, { [victim.id]: 2 });
  });

  it("the same submission's worker killed 3 times, restarted under the same name: scored on attempt 4, never failed", async () => {
    const [target] = await submit(1, 1_500_000n);
    const ids = [target, ...(await submit(IN_FLIGHT - 1))];
    let firstKill = 0;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const row = await web.waitFor(
        `submission ${target} running (attempt ${attempt})`,
        async () => (await rows([target])).find((r) => r.status === "RUNNING" && r.attempts === attempt && r.workerId),
        60_000,
      );
      firstKill ||= Date.now();
      await p.workers.get(row.workerId!)!.stop("SIGKILL");
      await p.startWorker(row.workerId!);
    }
    await web.waitFor(`submission ${target} scored`, async () => (await rows([target]))[0].status === "SCORED", BOUND.killedThrice * 1000);
    await reportRecovery("the same submission's worker killed 3 times, restarted under the same name", seconds(firstKill));
    await expectScoredOnce(ids, { [target]: 4 });
  });

  /** Loses Redis's data while work is in flight; measures until every QUEUED submission has a job again. */
  async function expectJobsBackAfter(fault: string, loseRedis: () => Promise<void>) {
    const ids = await submit(IN_FLIGHT);
    await web.waitFor("a worker busy", async () => (await rows(ids)).some((row) => row.status === "RUNNING"), 120_000);
    await loseRedis();
    const lostAt = Date.now();
    await web.waitFor(
      "every QUEUED submission to have a job again",
      async () => {
        const queued = (await rows(ids)).filter((row) => row.status === "QUEUED");
        for (const row of queued) if (!(await web.hasLiveJob(row.id).catch(() => false))) return false;
        return true;
      },
      BOUND.redis * 1000,
    );
    await reportRecovery(fault, seconds(lostAt));
    await expectScoredOnce(ids);
  }

  it("Redis restarted empty: every QUEUED submission has its job again within seconds, all scored once", async () => {
    await expectJobsBackAfter("Redis restarted empty -> every QUEUED submission queued again", async () => {
      await p.redis.kill();
      await p.redis.start(); // measured from here: Redis is back
    });
  });

  it("Redis flushed: the reconciler notices within seconds and re-adds every QUEUED submission's job", async () => {
    await expectJobsBackAfter("Redis flushed -> every QUEUED submission queued again", async () => {
      const { default: IORedis } = await import("ioredis");
      const admin = new IORedis(p.redis.url);
      await admin.flushall();
      await admin.quit();
    });
  });

  it("Postgres down longer than the retries: 503 with Retry-After meanwhile, no attempt spent, no live worker declared lost, all scored once", async () => {
    const ids = await submit(IN_FLIGHT);
    const running = await web.waitFor("both workers busy", async () => {
      const now = (await rows(ids)).filter((row) => row.status === "RUNNING");
      return now.length >= 2 ? now : null;
    }, 120_000);
    await p.postgres.stop("fast");
    const downAt = Date.now();
    // While it is down, the API says "come back shortly", not 500.
    let answers = 0;
    while (Date.now() - downAt < PG_OUTAGE_MS) {
      const status = await web.submissionStatus(slug, ids[0], token);
      expect(status.status).toBe(503);
      expect(status.body.error.code).toBe("SERVICE_UNAVAILABLE");
      expect(status.headers.get("retry-after")).toBe("5");
      answers++;
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // pacing the probe during a fixed-length outage
    }
    expect(answers).toBeGreaterThan(0);
    await p.postgres.start();
    const upAt = Date.now();
    await web.waitFor(
      "the submissions running at the outage to be scored",
      async () => {
        const now = await rows(running.map((row) => row.id)).catch(() => []);
        return now.length === running.length && now.every((row) => row.status === "SCORED");
      },
      BOUND.postgres * 1000,
    );
    await reportRecovery("Postgres down 16 s -> the in-flight submissions scored (after it is back)", seconds(upAt));
    // The outage failed no attempt (before: all 4, then stuck RUNNING). BullMQ keeps one stack trace
    // per failed attempt (its attemptsMade counts the completion too). A second claim without a failed
    // attempt was seen once with a load average of 40: a lock lapsing while its worker was starved.
    const { evaluationQueue } = await import("@/lib/queue/evaluation-queue");
    const { evaluationJobId } = await import("@goat/contracts/evaluation-job");
    await expectScoredOnce(ids, (_id, attempts) => attempts <= 2);
    const failed: number[] = [];
    for (const id of ids) if (((await evaluationQueue().getJob(evaluationJobId(id)))?.stacktrace ?? []).length > 0) failed.push(id);
    const faultLines = [...p.workers.values()].flatMap((worker) => worker.output().split("\n")).filter((line) => line.includes("platform fault"));
    expect(failed, faultLines.join("\n")).toEqual([]);
    // Both workers were alive all along: neither was declared lost.
    expect(await p.db.auditLogEntry.count({ where: { action: "worker.lost", at: { gte: new Date(downAt) } } })).toBe(0);
  });
});
