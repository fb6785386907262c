import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { evaluationJobId } from "@goat/contracts/evaluation-job";
import { cancelSubmission, drainWorker, rescoreTask, retrySubmission, setPrivateRevealed, setQueuePaused } from "@/lib/admin/controls";
import { exportRows, toCsv } from "@/lib/admin/export";
import { moveUserToTeam, resetTeamQuota, setUserDisabled, setUserRole } from "@/lib/admin/people";
import type { SessionUser } from "@/lib/auth/session";
import { createUser } from "@/lib/accounts/users";
import { db } from "@/lib/db";
import { leaderboardForTask } from "@/lib/leaderboard/board";
import { evaluationQueue } from "@/lib/queue/evaluation-queue";
import { quotaState } from "@/lib/quota/daily-quota";
import { submissionStatusForCaller } from "@/lib/submissions/status";
import { buildHangingModel } from "@/tests/support/onnx/failing-models";
import { int64Labels, participantWithTeam, randomRows, taskWithDataset, uniqueName } from "./support/fixtures";
import { selectColumnsModel } from "./support/exact-models";
import { upload } from "./support/upload";
import { waitFor, waitForFinalStatus } from "./support/wait";
import { startWorker, type WorkerProcess } from "./support/worker-process";

// Each organiser control against the real Postgres, Redis and a real worker process: it does
// what it says, and it writes its audit entry.

const ROWS = 120;
let admin: SessionUser;
let worker: WorkerProcess;
let slug: string;
let taskId: number;
let team: Awaited<ReturnType<typeof participantWithTeam>>;

async function lastAudit(action: string) {
  return db.auditLogEntry.findFirst({ where: { action }, orderBy: { id: "desc" }, select: { actorId: true, target: true, details: true, at: true } });
}

beforeAll(async () => {
  const user = await createUser({ email: `${uniqueName("admin")}@test.local`, name: "Organiser", password: "admin-password-1", role: "ADMIN" });
  admin = { id: user.id, email: user.email, name: user.name, role: "ADMIN", team: null };
  const task = await taskWithDataset({
    inputs: randomRows(ROWS, 8, 5),
    labels: int64Labels(Array.from({ length: ROWS }, (_, i) => i % 3)),
    dailySubmissionLimit: 3,
  });
  slug = task.slug;
  taskId = task.id;
  team = await participantWithTeam();
  worker = await startWorker("controls-worker", { HEARTBEAT_INTERVAL_MS: "500" }, 120_000);
});

// The queue is shared by every integration file: a test that fails while it is paused must not
// leave it paused for the rest of the run.
afterEach(async () => {
  if (await evaluationQueue().isPaused()) await setQueuePaused(admin, false);
});

afterAll(async () => {
  await worker?.stop("SIGKILL");
  await setQueuePaused(admin, false).catch(() => {});
  await evaluationQueue().close();
});

async function scored() {
  const accepted = await upload(slug, team.token, selectColumnsModel(8, 3));
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
  const final = await waitForFinalStatus(accepted.body.id);
  expect(final.status).toBe("SCORED");
  return accepted.body.id as number;
}

/** Waits for `count` heartbeats of the worker after `since`. */
async function workerHeartbeats(workerId: string, count: number, since: Date): Promise<void> {
  let seen = 0;
  let last = since.getTime();
  await waitFor(`${count} heartbeats of ${workerId}`, async () => {
    const { lastHeartbeatAt } = await db.worker.findUniqueOrThrow({ where: { id: workerId }, select: { lastHeartbeatAt: true } });
    if (lastHeartbeatAt.getTime() > last) {
      seen++;
      last = lastHeartbeatAt.getTime();
    }
    return seen >= count;
  });
}

describe("queue controls", () => {
  it("pause stops new evaluations, cancel removes the waiting job, resume lets the rest run; each is audited", async () => {
    await setQueuePaused(admin, true);
    expect(await evaluationQueue().isPaused()).toBe(true);
    expect(await lastAudit("queue.pause")).toMatchObject({ actorId: admin.id, target: "queue:evaluations" });

    const waiting = await upload(slug, team.token, selectColumnsModel(8, 3));
    const kept = await upload(slug, team.token, selectColumnsModel(8, 3));
    expect(waiting.status).toBe(202);
    // The worker had its chance: it heartbeat twice after the uploads (alive, connected, its event
    // loop turning, however loaded the machine), and still the job waits and the submission is QUEUED.
    await workerHeartbeats("controls-worker", 2, new Date());
    // Waiting in the fair queue: BullMQ keeps jobs with a priority in its "prioritized" set.
    expect(["waiting", "prioritized"]).toContain(await evaluationQueue().getJobState(evaluationJobId(waiting.body.id)));
    expect((await db.submission.findUniqueOrThrow({ where: { id: waiting.body.id } })).status).toBe("QUEUED");

    await cancelSubmission(admin, waiting.body.id);
    expect((await db.submission.findUniqueOrThrow({ where: { id: waiting.body.id } })).status).toBe("CANCELLED");
    expect(await evaluationQueue().getJob(evaluationJobId(waiting.body.id))).toBeUndefined();
    expect(await lastAudit("submission.cancel")).toMatchObject({ actorId: admin.id, target: `submission:${waiting.body.id}` });

    await setQueuePaused(admin, false);
    expect(await evaluationQueue().isPaused()).toBe(false);
    expect(await lastAudit("queue.resume")).toMatchObject({ actorId: admin.id });
    expect((await waitForFinalStatus(kept.body.id)).status).toBe("SCORED");
    expect((await db.submission.findUniqueOrThrow({ where: { id: waiting.body.id } })).status).toBe("CANCELLED");
    expect(await db.result.count({ where: { submissionId: waiting.body.id } })).toBe(0);
  });

  it("cancelling a running submission kills its sandbox at once, and its page says who cancelled it and when, also after a retry", async () => {
    // The slow model reads 784 columns and answers 10 classes: a task of that shape.
    const slow = await taskWithDataset({
      inputs: randomRows(50, 784, 6),
      labels: int64Labels(Array.from({ length: 50 }, (_, i) => i % 10)),
      outputSpec: [{ name: "output", dtype: "float32", shape: [-1, 10] }],
      batchSize: 50,
    });
    // Minutes of work: only a kill ends it within the test.
    const hanging = await upload(slow.slug, team.token, buildHangingModel({ tripCount: 40_000_000n }));
    expect(hanging.status, JSON.stringify(hanging.body)).toBe(202);
    const id = hanging.body.id as number;
    await waitFor("the evaluation to start", async () => (await db.submission.findUniqueOrThrow({ where: { id } })).status === "RUNNING");
    await waitFor("the sandbox to run", async () => worker.output().includes(`submission ${id} claimed`));
    const cancelledAt = Date.now();
    await cancelSubmission(admin, id);
    await waitFor("the job to end", async () => !(await evaluationQueue().getJob(evaluationJobId(id)).then((job) => job?.isActive())), 30_000);
    const stoppedMs = Date.now() - cancelledAt;
    // The goal is within a second; the bound is generous for a loaded shared machine.
    expect(stoppedMs).toBeLessThan(5_000);
    await waitFor("the worker's log line", async () => worker.output().includes(`submission ${id} cancelled: its evaluation was stopped`), 5_000);
    expect((await db.submission.findUniqueOrThrow({ where: { id } })).status).toBe("CANCELLED");
    expect(await db.result.count({ where: { submissionId: id } })).toBe(0);
    await expect(cancelSubmission(admin, id)).rejects.toMatchObject({ status: 409 });

    const cancelled = await submissionStatusForCaller({ teamId: team.team.id, role: "PARTICIPANT" }, slow.slug, id);
    expect(cancelled.history).toEqual([{ action: "cancelled", by: "Organiser (organiser)", at: expect.any(String) }]);
    expect(Math.abs(Date.parse(cancelled.history[0].at) - cancelledAt)).toBeLessThan(5_000);
    await retrySubmission(admin, id);
    await cancelSubmission(admin, id); // not left to run for minutes
    const retried = await submissionStatusForCaller({ teamId: team.team.id, role: "PARTICIPANT" }, slow.slug, id);
    expect(retried.history.map((entry) => entry.action)).toEqual(["cancelled", "retried", "cancelled"]);
  });
});

describe("retry and quota", () => {
  it("a retried platform failure is evaluated again and costs no quota; a reset restarts the day's count", async () => {
    await resetTeamQuota(admin, team.team.id, null); // the previous tests used this team's slots
    expect(await lastAudit("team.reset_quota")).toMatchObject({ actorId: admin.id, target: `team:${team.team.id}` });
    const task = { id: taskId, dailySubmissionLimit: 3 };
    expect((await quotaState(db, team.team.id, task)).used).toBe(0);

    const id = await scored();
    await db.result.deleteMany({ where: { submissionId: id } });
    // As the worker leaves a submission after its last platform-fault attempt.
    await db.submission.update({ where: { id }, data: { status: "FAILED", failureKind: "PLATFORM", message: "The evaluation failed on our side." } });
    expect((await quotaState(db, team.team.id, task)).used).toBe(0);

    await retrySubmission(admin, id);
    // The worker may already have claimed it again: QUEUED, RUNNING or even SCORED by now.
    const retried = await db.submission.findUniqueOrThrow({ where: { id }, select: { status: true, quotaExempt: true, failureKind: true } });
    expect(retried).toMatchObject({ quotaExempt: true, failureKind: null });
    expect(["QUEUED", "RUNNING", "SCORED"]).toContain(retried.status);
    expect((await quotaState(db, team.team.id, task)).used).toBe(0);
    expect(await lastAudit("submission.retry")).toMatchObject({ actorId: admin.id, target: `submission:${id}` });
    expect((await waitForFinalStatus(id)).status).toBe("SCORED");
    expect(await db.result.count({ where: { submissionId: id } })).toBe(1);
    expect((await quotaState(db, team.team.id, task)).used).toBe(0);

    // Use the day's three slots, be refused, reset, be accepted again.
    for (let i = 0; i < 3; i++) expect((await upload(slug, team.token, selectColumnsModel(8, 3))).status).toBe(202);
    expect((await upload(slug, team.token, selectColumnsModel(8, 3))).status).toBe(429);
    await resetTeamQuota(admin, team.team.id, taskId);
    expect((await upload(slug, team.token, selectColumnsModel(8, 3))).status).toBe(202);
    await expect(retrySubmission(admin, id)).rejects.toMatchObject({ status: 409 });
  });
});

describe("re-score", () => {
  it("replaces every scored submission's result with a new one, still exactly one per submission", async () => {
    await waitFor("the queue to empty", async () => (await db.submission.count({ where: { taskId, status: { in: ["QUEUED", "RUNNING"] } } })) === 0, 60_000);
    const before = await db.result.findMany({ where: { submission: { taskId } }, select: { id: true, submissionId: true } });
    expect(before.length).toBeGreaterThan(2);
    const boardBefore = await leaderboardForTask(slug);
    expect(boardBefore.entries.length).toBeGreaterThan(0);
    // With the queue paused the re-score cannot start: the old results keep the board as it was.
    await setQueuePaused(admin, true);
    const { submissionIds } = await rescoreTask(admin, slug);
    expect(submissionIds.sort()).toEqual(before.map((row) => row.submissionId).sort());
    expect(await lastAudit("task.rescore")).toMatchObject({ actorId: admin.id, target: `task:${slug}`, details: { submissions: before.length } });
    expect(await db.submission.count({ where: { id: { in: submissionIds }, status: "QUEUED" } })).toBe(submissionIds.length);
    expect((await leaderboardForTask(slug)).entries).toEqual(boardBefore.entries);
    await setQueuePaused(admin, false);
    for (const id of submissionIds) expect((await waitForFinalStatus(id)).status).toBe("SCORED");
    const after = await db.result.findMany({ where: { submission: { taskId } }, select: { id: true, submissionId: true } });
    expect(after.map((row) => row.submissionId).sort()).toEqual(before.map((row) => row.submissionId).sort());
    const oldIds = new Set(before.map((row) => row.id));
    expect(after.every((row) => !oldIds.has(row.id))).toBe(true);
  });
});

describe("leaderboard controls", () => {
  it("a public freeze hides submissions made during it until the reveal, which also shows the private leaderboard", async () => {
    // Closes in 10 minutes, frozen for the last 60: every submission so far was made during the freeze.
    await db.task.update({ where: { id: taskId }, data: { closesAt: new Date(Date.now() + 10 * 60_000), publicFreezeMinutes: 60 } });
    const frozen = await leaderboardForTask(slug);
    expect(frozen.entries).toHaveLength(0);
    expect(frozen.frozenFrom).not.toBeNull();
    expect((await leaderboardForTask(slug, "private")).board).toBe("public");

    await setPrivateRevealed(admin, slug, true);
    expect((await db.task.findUniqueOrThrow({ where: { id: taskId } })).privateRevealedAt).not.toBeNull();
    expect(await lastAudit("task.reveal_private")).toMatchObject({ actorId: admin.id, target: `task:${slug}` });
    expect((await leaderboardForTask(slug, "private")).board).toBe("private");
    expect((await leaderboardForTask(slug, "private")).entries).toHaveLength(1);
    // The reveal lifts the freeze: every submission made before the close is on the public board.
    const revealed = await leaderboardForTask(slug);
    expect(revealed.entries).toHaveLength(1);
    expect(revealed.frozenFrom).toBeNull();
    await db.task.update({ where: { id: taskId }, data: { publicFreezeMinutes: 0, closesAt: null } });
    expect((await leaderboardForTask(slug)).entries).toHaveLength(1);
  });

  it("exports the leaderboard and the submissions as rows, CSV-quoted", async () => {
    const board = await exportRows(admin, slug, "leaderboard");
    expect(board[0]).toMatchObject({ rank: 1, team: team.team.name });
    expect(Object.keys(board[0])).toEqual(["rank", "team", "score", "submission_id", "submitted_at", "submission_count", "public_rank", "interval_low", "interval_high", "statistically_tied", "final", "finals"]);
    const submissions = await exportRows(admin, slug, "submissions");
    expect(submissions.length).toBe(await db.submission.count({ where: { taskId } }));
    const csv = toCsv([{ a: 'say "hi", then', b: "=cmd()", c: null, d: -1 }]);
    expect(csv).toBe('a,b,c,d\r\n"say ""hi"", then",\'=cmd(),,-1\r\n');
  });
});

describe("people", () => {
  it("changes a role, disables a user, moves a user between teams; audited; never on oneself", async () => {
    const other = await participantWithTeam();
    await setUserRole(admin, other.user.id, "ADMIN");
    expect((await db.user.findUniqueOrThrow({ where: { id: other.user.id } })).role).toBe("ADMIN");
    expect(await lastAudit("user.role")).toMatchObject({ actorId: admin.id, target: `user:${other.user.id}` });
    await setUserDisabled(admin, other.user.id, true);
    expect((await db.user.findUniqueOrThrow({ where: { id: other.user.id } })).disabledAt).not.toBeNull();
    expect(await lastAudit("user.disable")).toMatchObject({ actorId: admin.id });
    await moveUserToTeam(admin, other.user.id, team.team.id);
    expect((await db.teamMember.findUniqueOrThrow({ where: { userId: other.user.id } })).teamId).toBe(team.team.id);
    expect(await lastAudit("user.move_team")).toMatchObject({ actorId: admin.id, details: { teamId: team.team.id } });
    await expect(setUserDisabled(admin, admin.id, true)).rejects.toMatchObject({ status: 409 });
    await expect(setUserRole(admin, admin.id, "PARTICIPANT")).rejects.toMatchObject({ status: 409 });
  });
});

describe("drain", () => {
  it("a drained worker finishes, records itself STOPPED and its process exits", async () => {
    await waitFor("the worker's heartbeat", async () => (await db.worker.findUnique({ where: { id: "controls-worker" } }))?.state === "ONLINE");
    await drainWorker(admin, "controls-worker");
    expect(await lastAudit("worker.drain")).toMatchObject({ actorId: admin.id, target: "worker:controls-worker" });
    await waitFor("the worker to stop", async () => (await db.worker.findUniqueOrThrow({ where: { id: "controls-worker" } })).state === "STOPPED", 20_000);
    await waitFor("the process to exit", async () => worker.child.exitCode !== null, 20_000);
    expect(worker.child.exitCode).toBe(0);
    expect(worker.output()).toContain("drained");
    await expect(drainWorker(admin, "controls-worker")).rejects.toMatchObject({ status: 409 });
  });
});
