import "server-only";
import { Queue } from "bullmq";
import IORedis from "ioredis";
import {
  EVALUATION_JOB_OPTIONS,
  EVALUATION_QUEUE,
  evaluationJobId,
  type EvaluationJob,
} from "@goat/contracts/evaluation-job";
import { env } from "../env";

/**
 * The one producer of evaluation jobs. The web app never starts a BullMQ Worker.
 * Postgres says what state a submission is in; this queue only carries the work.
 */
const globalForQueue = globalThis as unknown as { goatEvaluationQueue?: Queue<EvaluationJob>; goatRedis?: IORedis };

export function evaluationQueue(): Queue<EvaluationJob> {
  if (!globalForQueue.goatEvaluationQueue) {
    const connection = new IORedis(env().REDIS_URL, {
      // BullMQ requires null here for blocking commands; producers fail fast through addWithTimeout instead.
      maxRetriesPerRequest: null,
      lazyConnect: false,
    });
    connection.on("error", (error) => console.warn(`[queue] redis: ${error.message}`));
    globalForQueue.goatRedis = connection;
    globalForQueue.goatEvaluationQueue = new Queue<EvaluationJob>(EVALUATION_QUEUE, {
      connection,
      prefix: env().QUEUE_PREFIX,
    });
  }
  return globalForQueue.goatEvaluationQueue;
}

/** Answers PONG when Redis is reachable (health checks). */
export async function pingRedis(): Promise<string> {
  evaluationQueue();
  return withTimeout(globalForQueue.goatRedis!.ping(), "pinging Redis");
}

const REDIS_TIMEOUT_MS = 3_000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${REDIS_TIMEOUT_MS} ms`)), REDIS_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Adds the evaluation job of a submission. Adding twice is a no-op (the job id is the
 * submission's). A job left completed or failed in Redis from an earlier run is removed first
 * when `replaceFinished` is set (retry, re-score, reconcile), so the submission runs again.
 */
export async function enqueueEvaluation(
  submissionId: number,
  reason: NonNullable<EvaluationJob["reason"]>,
  { replaceFinished = false } = {},
): Promise<void> {
  const queue = evaluationQueue();
  const jobId = evaluationJobId(submissionId);
  if (replaceFinished) {
    const existing = await withTimeout(queue.getJob(jobId), "reading the job");
    if (existing) {
      const state = await existing.getState();
      if (state === "completed" || state === "failed") await existing.remove();
    }
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
      },
    ),
    "adding the job",
  );
}

/** Whether the submission has a job that will still run (waiting, delayed, active or prioritized). */
export async function hasLiveJob(submissionId: number): Promise<boolean> {
  const job = await evaluationQueue().getJob(evaluationJobId(submissionId));
  if (!job) return false;
  const state = await job.getState();
  return state !== "completed" && state !== "failed" && state !== "unknown";
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
