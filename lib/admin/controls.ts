import "server-only";
import { evaluationJobId } from "@goat/contracts/evaluation-job";
import { cancelChannel } from "@goat/contracts/queue-signals";
import { db } from "../db";
import { ApiError } from "../errors";
import { publishSubmissionStatus } from "../events/submission-events";
import { env } from "../env";
import { publishBoardReveal } from "../events/board-reveal-events";
import { forgetLeaderboards } from "../leaderboard/cache";
import { enqueueEvaluation, evaluationQueue, queueRedis, withTimeout } from "../queue/evaluation-queue";
import { notifyWebhooks } from "../webhooks/queue";
import type { SessionUser } from "../auth/session";
import { recordAudit } from "./audit";
import { enqueueRescores, requeueForRescore } from "./scoring-edit";
import { assertAdmin } from "./authorize";

/**
 * The organiser's controls over evaluations. Postgres changes first (the source of truth), then
 * the queue; each control writes one audit entry. The worker cooperates through the states it
 * checks: it claims only QUEUED/RUNNING submissions and only turns RUNNING into SCORED.
 */
export interface ControlResult {
  message: string;
}

async function submissionOrThrow(id: number) {
  const row = await db.submission.findUnique({ where: { id }, select: { id: true, status: true, failureKind: true } });
  if (!row) throw new ApiError(404, "NOT_FOUND", `There is no submission ${id}.`);
  return row;
}

/**
 * Evaluates a failed (or cancelled) submission again. A submission that never cost its team quota
 * (platform fault, cancelled) is marked quotaExempt so that being QUEUED again does not start
 * costing it.
 */
export async function retrySubmission(actor: SessionUser | null, id: number): Promise<ControlResult> {
  assertAdmin(actor);
  const row = await submissionOrThrow(id);
  if (row.status !== "FAILED" && row.status !== "CANCELLED") {
    throw new ApiError(409, "CONFLICT", `Submission ${id} is ${row.status}; only failed or cancelled submissions can be retried.`);
  }
  const costFree = row.status === "CANCELLED" || row.failureKind === "PLATFORM";
  await db.$transaction(async (tx) => {
    const { count } = await tx.submission.updateMany({
      where: { id, status: row.status },
      data: { status: "QUEUED", failureKind: null, message: null, finishedAt: null, workerId: null, rescoring: false, ...(costFree ? { quotaExempt: true } : {}) },
    });
    if (count !== 1) throw new ApiError(409, "CONFLICT", `Submission ${id} changed meanwhile; reload and try again.`);
    await recordAudit(tx, actor.id, "submission.retry", `submission:${id}`, { from: row.status, failureKind: row.failureKind });
  });
  await enqueueEvaluation(id, "retry");
  await publishSubmissionStatus(id);
  return { message: `Submission ${id} is queued again.` };
}

/**
 * Cancels a queued or running submission. A waiting job is removed from the queue; the worker
 * running one hears the cancel on Redis and kills its sandbox at once (and would drop a result
 * anyway: it only turns RUNNING into SCORED). The audit entry is what the team's page shows.
 */
export async function cancelSubmission(actor: SessionUser | null, id: number): Promise<ControlResult> {
  assertAdmin(actor);
  const row = await submissionOrThrow(id);
  const { count } = await db.submission.updateMany({
    where: { id, status: { in: ["QUEUED", "RUNNING"] } },
    data: { status: "CANCELLED", finishedAt: new Date(), message: "Cancelled by the organisers." },
  });
  if (count !== 1) throw new ApiError(409, "CONFLICT", `Submission ${id} is ${row.status}; only queued or running submissions can be cancelled.`);
  await recordAudit(db, actor.id, "submission.cancel", `submission:${id}`, { from: row.status });
  const job = await evaluationQueue().getJob(evaluationJobId(id));
  if (job) {
    const state = await job.getState();
    // An active job is locked by its worker and cannot be removed: its worker stops it.
    if (state !== "active") await job.remove().catch(() => {});
  }
  // Sent whatever the state read above: the job may have started meanwhile.
  await withTimeout(queueRedis().publish(cancelChannel(env().QUEUE_PREFIX), String(id)), "sending the cancel");
  await publishSubmissionStatus(id);
  return { message: `Submission ${id} is cancelled.` };
}

/**
 * Re-scores every scored or failed submission of a task (after a platform incident or a metric
 * fix) under the task's current scoring version: the old results stay, and keep their teams on the
 * leaderboard, until the worker replaces each one in the transaction that stores the new result
 * (lib/admin/scoring-edit.ts; a scoring edit does the same and bumps the version). Queued and
 * running submissions are left alone; they are evaluated with the current data anyway.
 */
export async function rescoreTask(actor: SessionUser | null, slug: string): Promise<ControlResult & { submissionIds: number[] }> {
  assertAdmin(actor);
  const task = await db.task.findUnique({ where: { slug }, select: { id: true } });
  if (!task) throw new ApiError(404, "TASK_NOT_FOUND", `There is no task "${slug}".`);
  const submissionIds = await db.$transaction(async (tx) => {
    const ids = await requeueForRescore(tx, task.id);
    await recordAudit(tx, actor.id, "task.rescore", `task:${slug}`, { submissions: ids.length });
    return ids;
  });
  await enqueueRescores(slug, submissionIds);
  return { message: `${submissionIds.length} submissions of "${slug}" are queued for re-scoring.`, submissionIds };
}

export async function setQueuePaused(actor: SessionUser | null, paused: boolean): Promise<ControlResult> {
  assertAdmin(actor);
  // BullMQ's pause is global: workers finish the job in hand and take no new ones.
  if (paused) await evaluationQueue().pause();
  else await evaluationQueue().resume();
  await recordAudit(db, actor.id, paused ? "queue.pause" : "queue.resume", "queue:evaluations");
  // Each team with a waiting submission hears of it, so its page says "paused" (or stops saying it) live.
  const waiting = await db.submission.findMany({ where: { status: "QUEUED" }, distinct: ["teamId"], select: { id: true } });
  for (const { id } of waiting) await publishSubmissionStatus(id);
  return { message: paused ? "The queue is paused." : "The queue is running." };
}

/** Asks a worker to finish its job and take no more; its heartbeat loop sees the request and closes it. */
export async function drainWorker(actor: SessionUser | null, workerId: string): Promise<ControlResult> {
  assertAdmin(actor);
  const { count } = await db.worker.updateMany({ where: { id: workerId, state: { in: ["ONLINE", "PAUSED"] }, drainRequestedAt: null }, data: { drainRequestedAt: new Date() } });
  if (count !== 1) throw new ApiError(409, "CONFLICT", `Worker ${workerId} is not online (or is already draining).`);
  await recordAudit(db, actor.id, "worker.drain", `worker:${workerId}`);
  return { message: `Worker ${workerId} will finish its job and stop.` };
}

/** Shows (or hides again) the private leaderboard of a task. */
export async function setPrivateRevealed(actor: SessionUser | null, slug: string, revealed: boolean): Promise<ControlResult> {
  assertAdmin(actor);
  const { count } = await db.task.updateMany({ where: { slug }, data: { privateRevealedAt: revealed ? new Date() : null } });
  if (count !== 1) throw new ApiError(404, "TASK_NOT_FOUND", `There is no task "${slug}".`);
  forgetLeaderboards(slug);
  await recordAudit(db, actor.id, revealed ? "task.reveal_private" : "task.hide_private", `task:${slug}`);
  if (revealed) await notifyWebhooks({ trigger: "private-revealed", taskSlug: slug });
  // Open leaderboard pages of every web process switch boards live (lib/events/leaderboard-stream.ts).
  await publishBoardReveal({ taskSlug: slug, revealed });
  return { message: revealed ? `The private leaderboard of "${slug}" is revealed.` : `The private leaderboard of "${slug}" is hidden.` };
}
