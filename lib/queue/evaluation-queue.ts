import "server-only";
import { Queue } from "bullmq";
import IORedis from "ioredis";
import {
  EVALUATION_JOB_OPTIONS,
  EVALUATION_QUEUE,
  evaluationJobId,
  type EvaluationJob,
} from "@goat/contracts/evaluation-job";
import { schedulingPriority } from "@goat/contracts/fair-queue";
import { db } from "../db";
import { env } from "../env";
import { log } from "../log";
import { webMetrics } from "../observability/metrics";

/**
 * The one producer of evaluation jobs. The web app never starts a BullMQ Worker.
 * Postgres says what state a submission is in; this queue only carries the work.
 */
const globalForQueue = globalThis as unknown as {
  goatEvaluationQueue?: Queue<EvaluationJob>;
  goatRedis?: IORedis;
  goatRedisBackListeners?: Set<() => void>;
  /** When the queue's connection was last ready again after a loss (ms since the epoch). */
  goatRedisBackAt?: number;
};

function redisBackListeners(): Set<() => void> {
  globalForQueue.goatRedisBackListeners ??= new Set();
  return globalForQueue.goatRedisBackListeners;
}

/** Calls `listener` each time the queue's Redis connection is ready again after a loss. */
export function onQueueRedisBack(listener: () => void): () => void {
  redisBackListeners().add(listener);
  return () => redisBackListeners().delete(listener);
}

export function evaluationQueue(): Queue<EvaluationJob> {
  if (!globalForQueue.goatEvaluationQueue) {
    const connection = new IORedis(env().REDIS_URL, {
      // BullMQ requires null here for blocking commands; producers fail fast through addWithTimeout instead.
      maxRetriesPerRequest: null,
      lazyConnect: false,
    });
    let lost = false;
    connection.on("error", (error) => log.warn(`queue redis: ${error.message}`));
    connection.on("close", () => (lost = true));
    connection.on("ready", () => {
      if (!lost) return;
      lost = false;
      globalForQueue.goatRedisBackAt = Date.now();
      log.info("queue redis is back");
      for (const listener of redisBackListeners()) listener();
    });
    globalForQueue.goatRedis = connection;
    globalForQueue.goatEvaluationQueue = new Queue<EvaluationJob>(EVALUATION_QUEUE, {
      connection,
      prefix: env().QUEUE_PREFIX,
    });
    // Without a listener BullMQ prints connection errors raw (console.error) while Redis is down.
    globalForQueue.goatEvaluationQueue.on("error", (error) => log.warn(`queue: ${error.message}`));
  }
  return globalForQueue.goatEvaluationQueue;
}

/** Closes the queue and its connection if this process opened them (a command-line run that queued re-scores). */
export async function closeEvaluationQueue(): Promise<void> {
  const queue = globalForQueue.goatEvaluationQueue;
  if (!queue) return;
  globalForQueue.goatEvaluationQueue = undefined;
  await queue.close();
  globalForQueue.goatRedis?.disconnect();
  globalForQueue.goatRedis = undefined;
}

/** The queue's Redis connection, for the locks of periodic jobs (exclusive-run.ts). */
export function queueRedis(): IORedis {
  evaluationQueue();
  return globalForQueue.goatRedis!;
}

/** Answers PONG when Redis is reachable (health checks). */
export async function pingRedis(): Promise<string> {
  return withTimeout(queueRedis().ping(), "pinging Redis");
}

const REDIS_TIMEOUT_MS = 3_000;

/**
 * Every Redis call of the web app goes through this: the queue's connection waits for Redis to come
 * back (BullMQ needs maxRetriesPerRequest: null), so without a timeout a call hangs during an outage.
 */
export function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${REDIS_TIMEOUT_MS} ms`)), REDIS_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The priority of a submission's job (@goat/contracts/fair-queue): its rank among its team's
 * waiting and running submissions of its lane, stored with the time it was queued. A job re-added
 * by the reconciler or the lost-worker sweep keeps the stored priority and time: its place.
 */
async function assignPriority(submissionId: number, reason: NonNullable<EvaluationJob["reason"]>): Promise<number> {
  const row = await db.submission.findUnique({
    where: { id: submissionId },
    select: { teamId: true, isReference: true, rescoring: true, queuePriority: true },
  });
  if (!row) return schedulingPriority(1, false);
  if (reason === "reconcile" && row.queuePriority > 0) return row.queuePriority;
  const background = row.isReference || row.rescoring;
  const sameLane = background ? { OR: [{ isReference: true }, { rescoring: true }] } : { isReference: false, rescoring: false };
  const others = await db.submission.count({
    where: { teamId: row.teamId, status: { in: ["QUEUED", "RUNNING"] }, id: { not: submissionId }, ...sameLane },
  });
  const priority = schedulingPriority(others + 1, background);
  const data = reason === "reconcile" ? { queuePriority: priority } : { queuePriority: priority, queuedAt: new Date() };
  await db.submission.update({ where: { id: submissionId }, data });
  return priority;
}

/**
 * Adds the evaluation job of a submission, with its fair-share priority. Adding twice is a no-op (the job id is the
 * submission's). A job left completed or failed in Redis is removed first, so the submission runs
 * again: a retry's, re-score's or reconcile's earlier run, or, for an upload, a job of another
 * database that gave out the same id on this Redis prefix (a reset database, a second platform on
 * the same Redis), which would otherwise swallow the new submission's job until the reconciler.
 */
export async function enqueueEvaluation(submissionId: number, reason: NonNullable<EvaluationJob["reason"]>): Promise<void> {
  const queue = evaluationQueue();
  const jobId = evaluationJobId(submissionId);
  const priority = await assignPriority(submissionId, reason);
  const existing = await withTimeout(queue.getJob(jobId), "reading the job");
  if (existing) {
    const state = await withTimeout(existing.getState(), "reading the job's state");
    if (state === "completed" || state === "failed") await withTimeout(existing.remove(), "removing the finished job");
  }
  await withTimeout(
    queue.add(
      "evaluate",
      { submissionId, reason },
      {
        ...EVALUATION_JOB_OPTIONS,
        attempts: env().EVALUATION_ATTEMPTS,
        backoff: { ...EVALUATION_JOB_OPTIONS.backoff, delay: env().EVALUATION_BACKOFF_MS },
        jobId,
        priority,
      },
    ),
    "adding the job",
  );
  webMetrics().jobsAdded.inc({ reason });
  log.info({ submissionId, status: "QUEUED", reason, priority }, `submission ${submissionId} queued (${reason}, priority ${priority})`);
}

/** Whether the submission has a job that will still run (waiting, delayed, active or prioritized). */
export async function hasLiveJob(submissionId: number): Promise<boolean> {
  const job = await withTimeout(evaluationQueue().getJob(evaluationJobId(submissionId)), "reading the job");
  if (!job) return false;
  const state = await withTimeout(job.getState(), "reading the job's state");
  return state !== "completed" && state !== "failed" && state !== "unknown";
}

/**
 * How long after the queue's Redis came back (restarted, or this connection lost and remade) the
 * workers' presence in it tells nothing: each worker reconnects on its own backoff (ioredis: up to
 * 2 s between tries; longer on a loaded host), so a live worker can be missing from the listing, and
 * the reconciler runs at once when Redis is back. Taken for dead, it would lose its evaluation in
 * hand (queued again and claimed a second time) and be declared lost.
 */
export const WORKER_RECONNECT_GRACE_MS = 15_000;

/**
 * The WORKER_IDs of the workers connected to the queue now. A worker's blocking connection is named
 * `<prefix>:<queue>:w:<WORKER_ID>` by BullMQ, and Redis drops it the moment the process dies: a
 * worker listed here is alive, whatever its heartbeats in Postgres say. Undefined while the listing
 * cannot tell a dead worker from a live one: within WORKER_RECONNECT_GRACE_MS of the queue's Redis
 * coming back. Rejects while Redis is down.
 */
export async function connectedWorkerIds(now = Date.now()): Promise<Set<string> | undefined> {
  const backAt = globalForQueue.goatRedisBackAt;
  if (backAt !== undefined && now - backAt < WORKER_RECONNECT_GRACE_MS) return undefined;
  const clients = await withTimeout(evaluationQueue().getWorkers(), "listing the workers");
  return new Set(clients.map((client) => String(client.rawname ?? "").split(":w:")[1]).filter(Boolean));
}

export interface QueueCounts {
  waiting: number;
  running: number;
  delayed: number;
  workersOnline: number;
}

export async function queueCounts(): Promise<QueueCounts> {
  const queue = evaluationQueue();
  const [counts, workersOnline] = await withTimeout(
    Promise.all([queue.getJobCounts("waiting", "active", "delayed", "prioritized"), queue.getWorkersCount()]),
    "reading the queue",
  );
  return {
    waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
    running: counts.active ?? 0,
    delayed: counts.delayed ?? 0,
    workersOnline,
  };
}
