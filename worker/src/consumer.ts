import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from "bullmq";
import IORedis from "ioredis";
import { EVALUATION_QUEUE, evaluationJobId, evaluationJobSchema, type EvaluationJob } from "@goat/contracts/evaluation-job";
import { createLogger, type Logger } from "@goat/contracts/logger";
import { TEAM_LIMIT_DEFER_MS } from "@goat/contracts/fair-queue";
import { cancelChannel, workerOnlineChannel } from "@goat/contracts/queue-signals";
import { createModelStorage, modelStorageConfigFromEnv } from "@goat/contracts/model-storage";
import { tensorSpecListSchema } from "@goat/contracts/tensor-spec";
import { createDb, type Db } from "./db";
import { sandboxSpares, type WorkerEnv } from "./env";
import { evaluateSubmission, failForParticipant, recordPlatformFault, type EvaluationContext } from "./evaluate-submission";
import { ParticipantFault } from "./faults";
import { startHeartbeat } from "./heartbeat";
import { workerStatusEvents } from "./status-events";
import { workerMetrics } from "./observability";
import { createOutageWait } from "./outage";
import type { ExecutionProviderConfig } from "./onnx/execution-provider";
import { missingWorkerNodeFlags, WORKER_NODE_FLAGS } from "./node-flags";
import { sandboxHiddenPaths } from "./sandbox/isolation";
import { SandboxPool } from "./sandbox/pool";
import { SandboxBreaker } from "./sandbox-breaker";
import { TaskDatasetCache } from "./task-datasets";
import { usableCores } from "@goat/contracts/usable-cores";

/**
 * The queue consumer: concurrency 1 per process (one process per GPU slice). Participant faults
 * end the job without retry (UnrecoverableError); anything else is a platform fault, retried
 * with backoff by BullMQ (EVALUATION_JOB_OPTIONS). A dependency outage is not a fault of the
 * attempt: it is waited out (outage.ts). docs/observability.md has the recovery settings.
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
  /** Why it takes no jobs (its sandbox would not start: sandbox-breaker.ts), or undefined while it does. */
  sandboxPauseReason(): string | undefined;
  log: Logger;
}

/**
 * BullMQ fails a job that stalled more than maxStalledCount times, and a failed job waits for the
 * reconciler. The platform's own policy applies instead: every start of the job counts as an
 * attempt (attemptsStarted), and past the submission's attempts it ends FAILED as a platform fault.
 */
const NEVER_FAIL_FOR_STALLING = 1_000_000;

/**
 * A worker restarted under the same WORKER_ID (compose's `restart: unless-stopped`) first hands back
 * what its previous incarnation left RUNNING: the job goes back to waiting at once instead of after
 * its dead lock expires, and the lost-worker sweep (which sees this id heartbeat again) never needs to.
 */
async function handBackPreviousIncarnation(db: Db, queue: Queue<EvaluationJob>, workerId: string, log: Logger): Promise<void> {
  const left = await db.submission.findMany({ where: { status: "RUNNING", workerId }, select: { id: true } });
  for (const { id } of left) {
    const job = await queue.getJob(evaluationJobId(id));
    // Token "0": the lock belongs to the dead process, whose token is gone with it.
    if (job && (await job.getState()) === "active") await job.moveToWait().catch(() => {});
    const { count } = await db.submission.updateMany({
      where: { id, status: "RUNNING", workerId },
      data: { status: "QUEUED", workerId: null, message: "Handed back to the queue: its worker restarted." },
    });
    if (count === 1) log.info({ submissionId: id, status: "QUEUED" }, `submission ${id} handed back: left RUNNING by this worker's previous process`);
  }
}

export function executionProviderFromEnv(env: WorkerEnv): ExecutionProviderConfig {
  return {
    provider: env.EXECUTION_PROVIDER,
    deviceId: env.CUDA_DEVICE_ID,
    gpuMemLimitBytes: env.GPU_MEM_LIMIT_MB ? env.GPU_MEM_LIMIT_MB * 1024 * 1024 : undefined,
    intraOpThreads: env.INTRA_OP_THREADS,
  };
}

/** Warms the first sandbox with the task most likely to come next: the oldest waiting submission's, at its current dataset version. */
async function warmUpHint(db: Db, datasets: TaskDatasetCache) {
  const next = await db.submission.findFirst({
    where: { status: { in: ["QUEUED", "RUNNING"] } },
    orderBy: { id: "asc" },
    select: { task: { select: { slug: true, inputSpec: true, datasetVersion: true, batchSize: true } } },
  });
  if (!next?.task.datasetVersion) return undefined;
  const task = { slug: next.task.slug, datasetVersion: next.task.datasetVersion, inputSpecs: tensorSpecListSchema.parse(next.task.inputSpec) };
  const version = task.datasetVersion;
  return { dataset: { version, loadInputs: async () => (await datasets.dataset(task)).inputs }, inputSpecs: task.inputSpecs, batchSize: next.task.batchSize };
}

export async function startEvaluationWorker(env: WorkerEnv): Promise<RunningWorker> {
  const log = createLogger("worker", { workerId: env.WORKER_ID });
  const metrics = workerMetrics();
  const db = createDb(env.DATABASE_URL);
  const events = workerStatusEvents({ db, redisUrl: env.REDIS_URL, queuePrefix: env.QUEUE_PREFIX, log });
  const { publisher, publishStatus } = events;
  const waitOutOutage = createOutageWait({ maxWaitMs: env.DEPENDENCY_WAIT_MS, log });
  const cores = usableCores();
  const spares = sandboxSpares(env.SANDBOX_SPARES, cores, env.INTRA_OP_THREADS);
  const sandbox = new SandboxPool({ maxSpare: spares, hidePaths: sandboxHiddenPaths(env), hugePages: env.SANDBOX_HUGE_PAGES, logger: { warn: (message) => log.warn(message) } });
  const datasets = new TaskDatasetCache(env.DATA_DIR);
  sandbox.warmUp(await warmUpHint(db, datasets).catch(() => undefined));
  const ctx: EvaluationContext = {
    db,
    storage: createModelStorage(modelStorageConfigFromEnv(env)),
    sandbox,
    datasets,
    workerId: env.WORKER_ID,
    executionProvider: executionProviderFromEnv(env),
    publishStatus,
    waitOutOutage,
  };

  // Pauses the queue consumer (declared below; a pause only follows a job) while its sandbox cannot start.
  const breaker = new SandboxBreaker({
    faultLimit: env.SANDBOX_FAULT_LIMIT,
    firstCheckDelayMs: env.SANDBOX_CHECK_DELAY_MS,
    maxCheckDelayMs: 60_000,
    checkSandbox: () => sandbox.checkStart(),
    pause: () => worker.pause(true),
    resume: () => worker.resume(),
    onChange: (pausedFor) => {
      metrics.sandboxPaused.set(pausedFor === undefined ? 0 : 1);
      // The dashboard's view; a drain requested meanwhile (DRAINING) stays as it is.
      const [from, to] = pausedFor === undefined ? (["PAUSED", "ONLINE"] as const) : (["ONLINE", "PAUSED"] as const);
      db.worker.updateMany({ where: { id: env.WORKER_ID, state: from }, data: { state: to } }).catch((error: Error) => log.warn({ err: error }, `could not mark this worker ${to}`));
    },
    log,
  });

  const connection = new IORedis(env.REDIS_URL, { maxRetriesPerRequest: null });
  // The submission in hand, for the heartbeat (the dashboard shows each worker's current job).
  let currentSubmissionId: number | null = null;
  // The submission in hand once an organiser has cancelled it (its sandbox is being killed).
  const cancelled = new Set<number>();
  let inHand: { job: Job<EvaluationJob>; token: string | undefined } | undefined;
  const processor = async (job: Job<EvaluationJob>, token?: string) => {
    inHand = { job, token };
    try {
      return await evaluateJob(job, token);
    } finally {
      if (inHand?.job === job) inHand = undefined;
    }
  };
  const evaluateJob = async (job: Job<EvaluationJob>, token: string | undefined) => {
    const { submissionId, deferrals = 0 } = evaluationJobSchema.parse(job.data);
    currentSubmissionId = submissionId;
    const maxAttempts = job.opts.attempts ?? 1;
    // A start after a dead worker's stall is an attempt too (BullMQ's attemptsMade counts only
    // failures); a start that found the team at its running limit is not.
    const attempt = Math.max(job.attemptsMade + 1, (job.attemptsStarted ?? 0) - deferrals);
    const finalAttempt = attempt >= maxAttempts;
    const jobLog = log.child({ submissionId, attempt });
    const startedAt = Date.now();
    try {
      if (attempt > maxAttempts) {
        // Its workers died under it again and again (killed, out of memory): the platform's fault.
        await waitOutOutage("recording the platform fault", () =>
          recordPlatformFault(db, submissionId, true),
        );
        await publishStatus(submissionId);
        metrics.evaluations.inc({ outcome: "platform_fault" });
        jobLog.error({ status: "FAILED" }, `submission ${submissionId} failed: started ${attempt} times, more than its ${maxAttempts} attempts`);
        return { outcome: "skipped" as const, submissionId, status: "FAILED" };
      }
      jobLog.info({ status: "RUNNING", reason: job.data.reason }, `submission ${submissionId} claimed (attempt ${attempt} of ${maxAttempts})`);
      const outcome = await evaluateSubmission(ctx, submissionId);
      if (outcome.outcome === "deferred") {
        // Back to the queue with its priority for a moment (BullMQ's delayed jobs keep it), without
        // an attempt: the next job in the fair order runs meanwhile. The count goes first: a worker
        // killed between the two leaves the job stalled, and its next start is this deferral's.
        await job.updateData({ ...job.data, deferrals: deferrals + 1 });
        await job.moveToDelayed(Date.now() + TEAM_LIMIT_DEFER_MS, token);
        jobLog.debug(`submission ${submissionId} waits: its team is at its running limit`);
        throw new DelayedError();
      }
      if (outcome.outcome === "scored") {
        breaker.sandboxStarted();
        metrics.evaluations.inc({ outcome: "scored" });
        metrics.evaluationSeconds.observe(outcome.totalMs / 1000);
        // milestones: when each step ended, ms from the job's start (evaluate-submission.ts)
        const milestones = Object.fromEntries(Object.entries(outcome.milestones).map(([step, ms]) => [step, Math.round(ms * 10) / 10]));
        jobLog.info(
          { status: "SCORED", publicScore: outcome.publicScore, durationMs: Math.round(outcome.committedMs), milestones },
          `submission ${submissionId} scored ${outcome.publicScore.toFixed(4)} in ${outcome.committedMs.toFixed(0)} ms`,
        );
      } else {
        metrics.evaluations.inc({ outcome: "skipped" });
        jobLog.info({ status: outcome.status }, `submission ${submissionId} skipped (${outcome.status})`);
      }
      return outcome;
    } catch (error) {
      if (error instanceof DelayedError) throw error;
      const durationMs = Date.now() - startedAt;
      if (cancelled.has(submissionId)) {
        // An organiser cancelled it and its sandbox was killed: the submission is CANCELLED already.
        metrics.evaluations.inc({ outcome: "skipped" });
        jobLog.info({ status: "CANCELLED", durationMs }, `submission ${submissionId} cancelled: its evaluation was stopped`);
        throw new UnrecoverableError("cancelled");
      }
      if (error instanceof ParticipantFault) {
        breaker.sandboxStarted();
        await waitOutOutage("recording the failure", () => failForParticipant(db, submissionId, error));
        await publishStatus(submissionId);
        metrics.evaluations.inc({ outcome: "participant_fault" });
        metrics.countSandboxKill(error.code);
        jobLog.info({ status: "FAILED", code: error.code, durationMs }, `submission ${submissionId} failed (participant, ${error.code}): ${error.displayMessage}`);
        throw new UnrecoverableError(error.displayMessage);
      }
      await waitOutOutage("recording the platform fault", () => recordPlatformFault(db, submissionId, finalAttempt)).catch(
        (recordError: Error) => jobLog.error({ err: recordError }, "could not record the platform fault"),
      );
      await publishStatus(submissionId);
      metrics.evaluations.inc({ outcome: "platform_fault" });
      breaker.evaluationFailed(error);
      jobLog.warn(
        { status: finalAttempt ? "FAILED" : "QUEUED", err: error, durationMs },
        `submission ${submissionId} attempt ${attempt} hit a platform fault: ${(error as Error).message}`,
      );
      throw error;
    } finally {
      currentSubmissionId = null;
      cancelled.delete(submissionId);
    }
  };

  // Cancels: the evaluation in hand stops at once. The kill is repeated until the job ends, in case
  // the cancel arrived before its sandbox started.
  const cancelSubscriber = new IORedis(env.REDIS_URL, { maxRetriesPerRequest: null });
  cancelSubscriber.on("error", (error) => log.warn(`redis (cancels): ${error.message}`));
  cancelSubscriber.on("message", (_channel, message) => {
    const submissionId = Number(message);
    if (!Number.isSafeInteger(submissionId) || submissionId !== currentSubmissionId) return;
    cancelled.add(submissionId);
    log.info({ submissionId }, `submission ${submissionId} was cancelled: stopping its evaluation`);
    const killer = setInterval(() => {
      if (currentSubmissionId !== submissionId) clearInterval(killer);
      else sandbox.cancelRunning();
    }, 100);
    sandbox.cancelRunning();
  });
  await cancelSubscriber.subscribe(cancelChannel(env.QUEUE_PREFIX));

  // Before taking work: what a previous process under this id left RUNNING goes back to the queue.
  const queue = new Queue<EvaluationJob>(EVALUATION_QUEUE, { connection: publisher, prefix: env.QUEUE_PREFIX });
  queue.on("error", (error) => log.warn(`queue (hand-back): ${error.message}`));
  await handBackPreviousIncarnation(db, queue, env.WORKER_ID, log).catch((error: Error) =>
    log.warn({ err: error }, "could not hand back what the previous process left running (its lock will expire instead)"),
  );

  const worker = new Worker<EvaluationJob>(EVALUATION_QUEUE, processor, {
    connection,
    prefix: env.QUEUE_PREFIX,
    concurrency: 1,
    // BullMQ renews the lock every lockDuration / 2 from this process's event loop, which a slow
    // evaluation never blocks (it runs in the sandbox child).
    lockDuration: env.LOCK_DURATION_MS,
    stalledInterval: env.STALLED_INTERVAL_MS,
    maxStalledCount: NEVER_FAIL_FOR_STALLING,
    name: env.WORKER_ID,
  });
  worker.on("error", (error) => log.warn(`queue error: ${error.message}`));
  // Safety net: a job that fails without our processor finishing (stalled too often) must not leave
  // its submission RUNNING forever.
  worker.on("failed", (job, error) => {
    if (!job || error instanceof UnrecoverableError || error.name === "UnrecoverableError") return;
    if (job.attemptsMade < (job.opts.attempts ?? 1)) return;
    const { submissionId } = job.data;
    void recordPlatformFault(db, submissionId, true)
      .then(async (changed) => {
        if (!changed) return; // the processor recorded and logged it
        log.warn({ submissionId, status: "FAILED" }, `submission ${submissionId} failed: its job ended without its evaluation finishing (${error.message})`);
        await publishStatus(submissionId);
      })
      .catch(() => {});
  });
  await worker.waitUntilReady();
  // The web app's reconciler runs when a worker comes (back) online: after a Redis loss this is
  // when the QUEUED submissions need their jobs again.
  const announceOnline = () =>
    void publisher.publish(workerOnlineChannel(env.QUEUE_PREFIX), env.WORKER_ID).catch((error: Error) => log.warn(`could not announce this worker: ${error.message}`));
  let redisLost = false;
  publisher.on("close", () => (redisLost = true));
  publisher.on("ready", () => {
    if (!redisLost) return;
    redisLost = false;
    log.info("redis is back: asking the web app to reconcile the queue");
    announceOnline();
  });
  announceOnline();
  const missingFlags = missingWorkerNodeFlags();
  if (missingFlags.length > 0) {
    log.warn(`started without ${missingFlags.join(" ")} (worker/src/node-flags.ts): each sandbox child's start costs this process more CPU; start it as \`node ${WORKER_NODE_FLAGS.join(" ")} dist/main.mjs\``);
  }
  log.info(
    `ready: queue "${EVALUATION_QUEUE}" (prefix ${env.QUEUE_PREFIX}), provider ${env.EXECUTION_PROVIDER}, lock ${env.LOCK_DURATION_MS} ms, stalled check every ${env.STALLED_INTERVAL_MS} ms, ` +
      `${spares} warm sandbox process(es), ${cores} usable core(s) (CPU quota counted), ` +
      `the sandbox children's malloc heap in ${sandbox.childHugePages ? "transparent huge pages" : "4 KB pages"} (SANDBOX_HUGE_PAGES=${env.SANDBOX_HUGE_PAGES})`,
  );

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      breaker.close();
      await worker.close(); // finishes the job in hand, takes no more
      await heartbeat.stop();
      await sandbox.close();
      await queue.close().catch(() => {});
      await connection.quit().catch(() => {});
      cancelSubscriber.disconnect();
      await events.close();
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
    onDrainRequested: () => void close().then(() => log.info("drained: stopped")),
    log: (message) => log.info(message),
    onFigures: (figures) => metrics.recordFigures(figures),
  });
  const handBack = async () => {
    const current = inHand;
    if (!current) return null;
    // Active -> wait, lock released: another worker takes it now instead of after LOCK_DURATION_MS.
    // If this fails (the job just finished, or Redis is gone), the lock still expires and BullMQ's
    // stalled-job check moves the job back. https://docs.bullmq.io/guide/workers/stalled-jobs
    await current.job.moveToWait(current.token);
    log.info({ submissionId: current.job.data.submissionId, status: "QUEUED" }, `submission ${current.job.data.submissionId} handed back to the queue (shutting down)`);
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
  return { worker, close, handBack, checkConnections, sandboxPauseReason: () => breaker.pauseReason, log };
}
