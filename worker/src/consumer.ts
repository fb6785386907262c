import { UnrecoverableError, Worker, type Job } from "bullmq";
import IORedis from "ioredis";
import { EVALUATION_QUEUE, evaluationJobSchema, type EvaluationJob } from "@goat/contracts/evaluation-job";
import { createModelStorage, modelStorageConfigFromEnv } from "@goat/contracts/model-storage";
import { taskDatasetDir } from "@goat/contracts/paths";
import { tensorSpecListSchema } from "@goat/contracts/tensor-spec";
import { createDb, type Db } from "./db";
import type { WorkerEnv } from "./env";
import { evaluateSubmission, failForParticipant, recordPlatformFault, type EvaluationContext } from "./evaluate-submission";
import { ParticipantFault } from "./faults";
import { startHeartbeat } from "./heartbeat";
import { createStatusPublisher } from "./status-events";
import type { ExecutionProviderConfig } from "./onnx/execution-provider";
import { sandboxHiddenPaths } from "./sandbox/isolation";
import { SandboxPool } from "./sandbox/pool";
import { TaskLabelCache } from "./task-labels";

/**
 * The queue consumer: concurrency 1 per process (one process per GPU slice). Participant faults
 * end the job without retry (UnrecoverableError); anything else is a platform fault, retried
 * with backoff by BullMQ (EVALUATION_JOB_OPTIONS).
 */
export interface RunningWorker {
  worker: Worker<EvaluationJob>;
  /** Finishes the job in hand (however long it takes), takes no more, then closes every connection. */
  close(): Promise<void>;
  /**
   * Puts the job in hand back in the queue at once, for another worker; for a shutdown that cannot
   * wait any longer (the container's stop_grace_period is running out). The process must exit
   * right after: the evaluation still running here is abandoned, not stopped.
   * Returns the job's id, or null when there was none.
   */
  handBack(): Promise<string | null>;
  /** Round trips to Redis and Postgres, for the health endpoint: "ok" or what went wrong. */
  checkConnections(): Promise<{ redis: string; database: string }>;
}

function log(workerId: string, message: string): void {
  console.log(`${new Date().toISOString()} [worker ${workerId}] ${message}`);
}

export function executionProviderFromEnv(env: WorkerEnv): ExecutionProviderConfig {
  return {
    provider: env.EXECUTION_PROVIDER,
    deviceId: env.CUDA_DEVICE_ID,
    gpuMemLimitBytes: env.GPU_MEM_LIMIT_MB ? env.GPU_MEM_LIMIT_MB * 1024 * 1024 : undefined,
    intraOpThreads: env.INTRA_OP_THREADS,
  };
}

/** Warms the first sandbox with the task most likely to come next: the oldest waiting submission's. */
async function warmUpHint(db: Db, dataDir: string) {
  const next = await db.submission.findFirst({
    where: { status: { in: ["QUEUED", "RUNNING"] } },
    orderBy: { id: "asc" },
    select: { task: { select: { slug: true, inputSpec: true } } },
  });
  if (!next) return undefined;
  return { datasetDir: taskDatasetDir(dataDir, next.task.slug), inputSpecs: tensorSpecListSchema.parse(next.task.inputSpec) };
}

export async function startEvaluationWorker(env: WorkerEnv): Promise<RunningWorker> {
  const db = createDb(env.DATABASE_URL);
  // BullMQ's connection runs blocking commands; events go out on their own connection.
  const publisher = new IORedis(env.REDIS_URL, { maxRetriesPerRequest: 2 });
  publisher.on("error", (error) => log(env.WORKER_ID, `redis (events): ${error.message}`));
  const publishStatus = createStatusPublisher(db, publisher, env.QUEUE_PREFIX);
  const sandbox = new SandboxPool({ maxSpare: 1, hidePaths: sandboxHiddenPaths(env) });
  sandbox.warmUp(await warmUpHint(db, env.DATA_DIR).catch(() => undefined));
  const ctx: EvaluationContext = {
    db,
    storage: createModelStorage(modelStorageConfigFromEnv(env)),
    sandbox,
    labels: new TaskLabelCache(env.DATA_DIR),
    workerId: env.WORKER_ID,
    executionProvider: executionProviderFromEnv(env),
    publishStatus,
  };

  const connection = new IORedis(env.REDIS_URL, { maxRetriesPerRequest: null });
  // The submission in hand, for the heartbeat (the dashboard shows each worker's current job).
  let currentSubmissionId: number | null = null;
  let inHand: { job: Job<EvaluationJob>; token: string | undefined } | undefined;
  const processor = async (job: Job<EvaluationJob>, token?: string) => {
    inHand = { job, token };
    try {
      return await evaluateJob(job);
    } finally {
      if (inHand?.job === job) inHand = undefined;
    }
  };
  const evaluateJob = async (job: Job<EvaluationJob>) => {
    const { submissionId } = evaluationJobSchema.parse(job.data);
    currentSubmissionId = submissionId;
    const attempt = job.attemptsMade + 1;
    const finalAttempt = attempt >= (job.opts.attempts ?? 1);
    try {
      const outcome = await evaluateSubmission(ctx, submissionId);
      log(env.WORKER_ID, outcome.outcome === "scored"
        ? `submission ${submissionId} scored ${outcome.score.toFixed(4)} in ${outcome.totalMs.toFixed(0)} ms`
        : `submission ${submissionId} skipped (${outcome.status})`);
      return outcome;
    } catch (error) {
      if (error instanceof ParticipantFault) {
        await failForParticipant(db, submissionId, error);
        await publishStatus(submissionId);
        log(env.WORKER_ID, `submission ${submissionId} failed (participant, ${error.code}): ${error.displayMessage}`);
        throw new UnrecoverableError(error.displayMessage);
      }
      await recordPlatformFault(db, submissionId, error as Error, finalAttempt);
      await publishStatus(submissionId);
      log(env.WORKER_ID, `submission ${submissionId} attempt ${attempt} hit a platform fault: ${(error as Error).message}`);
      throw error;
    } finally {
      currentSubmissionId = null;
    }
  };

  const worker = new Worker<EvaluationJob>(EVALUATION_QUEUE, processor, {
    connection,
    prefix: env.QUEUE_PREFIX,
    concurrency: 1,
    lockDuration: env.LOCK_DURATION_MS,
    stalledInterval: env.STALLED_INTERVAL_MS,
    maxStalledCount: 2,
    name: env.WORKER_ID,
  });
  worker.on("error", (error) => log(env.WORKER_ID, `queue error: ${error.message}`));
  // Safety net: a job that fails without our processor finishing (stalled too often) must not leave
  // its submission RUNNING forever.
  worker.on("failed", (job, error) => {
    if (!job || error instanceof UnrecoverableError || error.name === "UnrecoverableError") return;
    if (job.attemptsMade < (job.opts.attempts ?? 1)) return;
    void recordPlatformFault(db, job.data.submissionId, error, true)
      .then(() => publishStatus(job.data.submissionId))
      .catch(() => {});
  });
  await worker.waitUntilReady();
  log(env.WORKER_ID, `ready: queue "${EVALUATION_QUEUE}" (prefix ${env.QUEUE_PREFIX}), provider ${env.EXECUTION_PROVIDER}`);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await worker.close(); // finishes the job in hand, takes no more
      await heartbeat.stop();
      await sandbox.close();
      await connection.quit().catch(() => {});
      await publisher.quit().catch(() => {});
      await db.$disconnect();
    })();
    return closing;
  };
  const heartbeat = startHeartbeat({
    db,
    workerId: env.WORKER_ID,
    executionProvider: env.EXECUTION_PROVIDER,
    cudaDeviceId: env.CUDA_DEVICE_ID,
    gpuMemLimitMb: env.GPU_MEM_LIMIT_MB,
    currentSubmission: () => currentSubmissionId,
    // Draining closes like SIGTERM does; with the queue connection closed the process has
    // nothing left to do and exits on its own.
    onDrainRequested: () => void close().then(() => log(env.WORKER_ID, "drained: stopped")),
  });
  const handBack = async () => {
    const current = inHand;
    if (!current) return null;
    // Active -> wait, lock released: another worker takes it now instead of after LOCK_DURATION_MS.
    // If this fails (the job just finished, or Redis is gone), the lock still expires and BullMQ's
    // stalled-job check moves the job back. https://docs.bullmq.io/guide/workers/stalled-jobs
    await current.job.moveToWait(current.token);
    log(env.WORKER_ID, `submission ${current.job.data.submissionId} handed back to the queue (shutting down)`);
    return current.job.id ?? null;
  };
  const checkConnections = async () => {
    const [redis, database] = await Promise.all([
      // The worker's own connection sits in blocking commands: ping on the events connection and
      // read the worker's connection state.
      publisher.ping().then(() => (connection.status === "ready" ? "ok" : `queue connection ${connection.status}`), (e: Error) => e.message),
      db.$queryRaw`SELECT 1`.then(() => "ok", (e: Error) => e.message),
    ]);
    return { redis, database };
  };
  return { worker, close, handBack, checkConnections };
}
