import "server-only";
import IORedis from "ioredis";
import { workerOnlineChannel } from "@goat/contracts/queue-signals";
import { sweepDatasetVersions } from "../datasets/dataset-versions";
import { db } from "../db";
import { env } from "../env";
import { log } from "../log";
import { webMetrics } from "../observability/metrics";
import { connectedWorkerIds, enqueueEvaluation, evaluationQueue, hasLiveJob, onQueueRedisBack, queueRedis, withTimeout } from "./evaluation-queue";
import { runExclusively } from "./exclusive-run";

/**
 * Postgres is the source of truth: a QUEUED submission must have a job. After a Redis loss
 * (or an add that failed while Redis was down) the job is gone; this puts it back, and pauses the
 * queue again if an organiser had paused it (the pause lives in Redis; the audit log remembers it).
 * A RUNNING submission whose job vanished goes back to QUEUED once no live worker holds it
 * (its worker is not connected to the queue, and has had the time to reconnect since Redis came
 * back: WORKER_RECONNECT_GRACE_MS), or when its evaluation is long overdue.
 * Each pass also sweeps dataset versions that no evaluation uses any more.
 */
// A claim is a moment old: its worker is connected; give the listing a little slack all the same.
const RUNNING_GRACE_MS = 10_000;

export async function reconcileEvaluationQueue(now = new Date()): Promise<{ requeued: number[]; repaused: boolean }> {
  const requeued: number[] = [];

  const queued = await db.submission.findMany({ where: { status: "QUEUED" }, select: { id: true }, orderBy: { id: "asc" } });
  for (const { id } of queued) {
    if (!(await hasLiveJob(id))) {
      await enqueueEvaluation(id, "reconcile");
      requeued.push(id);
    }
  }

  const running = await db.submission.findMany({
    where: { status: "RUNNING" },
    select: { id: true, workerId: true, startedAt: true, task: { select: { evalTimeoutMs: true } } },
  });
  let presence: Promise<Set<string> | undefined> | undefined;
  for (const submission of running) {
    const age = now.getTime() - (submission.startedAt?.getTime() ?? 0);
    if (age < RUNNING_GRACE_MS) continue;
    if (await hasLiveJob(submission.id)) continue;
    const connected = await (presence ??= connectedWorkerIds(now.getTime()));
    const overdue = age >= submission.task.evalTimeoutMs + 5 * 60_000;
    // A connected worker still evaluates it (its job went with a Redis flush); it writes the result.
    // Right after Redis came back (undefined) its worker may be reconnecting: a later pass decides.
    if (!overdue && (connected === undefined || (submission.workerId && connected.has(submission.workerId)))) continue;
    const { count } = await db.submission.updateMany({
      where: { id: submission.id, status: "RUNNING" },
      data: { status: "QUEUED", workerId: null },
    });
    if (count === 1) {
      // Rare, and the submission is claimed a second time: said on its own line, with why.
      log.warn(
        { submissionId: submission.id, workerId: submission.workerId, ageMs: age, overdue },
        `reconciler: submission ${submission.id} was RUNNING for ${Math.round(age / 1000)} s with no job, ` +
          (overdue ? "long past its evaluation limit" : `and its worker ${submission.workerId ?? "(none)"} is not connected to the queue`) +
          ": queued again",
      );
      await enqueueEvaluation(submission.id, "reconcile");
      requeued.push(submission.id);
    }
  }
  webMetrics().reconcilerRequeued.inc(requeued.length);
  return { requeued, repaused: await restorePause() };
}

/** Pauses the queue again when the latest organiser action paused it and Redis forgot (a flush). */
async function restorePause(): Promise<boolean> {
  const latest = await db.auditLogEntry.findFirst({
    where: { action: { in: ["queue.pause", "queue.resume"] } },
    orderBy: { id: "desc" },
    select: { action: true },
  });
  if (latest?.action !== "queue.pause") return false;
  const queue = evaluationQueue();
  if (await withTimeout(queue.isPaused(), "reading the pause")) return false;
  await withTimeout(queue.pause(), "pausing the queue");
  return true;
}

type Trigger = "interval" | "redis_back" | "worker_online";

const globalForReconciler = globalThis as unknown as { goatReconciler?: { stop(): void; run(trigger: Trigger): Promise<void> } };

// Longer than a pass takes; a replica that dies holding the lock frees it after this.
const LOCK_TTL_MS = 60_000;
// A FLUSHALL drops no connection, so no 'ready' follows it: a marker key that vanishes tells.
const LOSS_CHECK_MS = 2_000;

/**
 * Runs the reconciler now, every `intervalMs`, when the queue's Redis connection is ready again
 * after a loss, and when a worker comes (back) online. Passes never overlap in a process, and a
 * Redis lock keeps two web replicas from running one at the same time. Errors are logged.
 */
export function startReconciler(intervalMs: number): { stop(): void; run(trigger: Trigger): Promise<void> } {
  if (globalForReconciler.goatReconciler) return globalForReconciler.goatReconciler;
  let running: Promise<void> | undefined;
  let again: Trigger | undefined;
  const pass = async (trigger: Trigger) => {
    const started = Date.now();
    const outcome = await runExclusively(queueRedis(), `${env().QUEUE_PREFIX}:lock:reconciler`, LOCK_TTL_MS, async () => {
      const reconciled = await reconcileEvaluationQueue();
      // Dataset versions no evaluation uses any more (lib/datasets/dataset-versions.ts); best effort.
      const swept = await sweepDatasetVersions().catch((error: Error) => {
        log.warn({ err: error }, `dataset sweep: ${error.message}`);
        return null;
      });
      if (swept && (swept.removed.length || swept.adopted.length)) log.info({ trigger, ...swept }, `dataset sweep: removed ${swept.removed.join(", ") || "nothing"}`);
      return reconciled;
    });
    if (!outcome.ran) {
      log.debug({ trigger }, "reconciler: skipped, another web replica holds the lock");
      return;
    }
    webMetrics().reconcilerRuns.inc({ trigger });
    const { requeued, repaused } = outcome.value;
    log[requeued.length || repaused ? "info" : "debug"](
      { trigger, requeued, repaused, durationMs: Date.now() - started },
      `reconciler: re-added jobs for submissions ${requeued.join(", ") || "none"}${repaused ? "; paused the queue again" : ""}`,
    );
  };
  const run = (trigger: Trigger): Promise<void> => {
    if (running) {
      again = trigger; // one more pass after this one: what triggered it may postdate its reads
      return running;
    }
    running = pass(trigger)
      .catch((error: Error) => log.warn({ trigger, err: error }, `reconciler: ${error.message}`))
      .finally(() => {
        running = undefined;
        if (again) {
          const next = again;
          again = undefined;
          void run(next);
        }
      });
    return running;
  };

  void run("interval");
  const timer = intervalMs > 0 ? setInterval(() => void run("interval"), intervalMs) : undefined;
  timer?.unref();
  const stopRedisBack = onQueueRedisBack(() => void run("redis_back"));
  const subscriber = new IORedis(env().REDIS_URL, { maxRetriesPerRequest: null });
  subscriber.on("error", (error) => log.warn(`reconciler redis: ${error.message}`));
  subscriber.on("message", () => void run("worker_online"));
  void subscriber.subscribe(workerOnlineChannel(env().QUEUE_PREFIX)).catch(() => {});
  const marker = `${env().QUEUE_PREFIX}:reconciler:marker`;
  let markerSet = false;
  const lossWatch = setInterval(() => {
    withTimeout(queueRedis().set(marker, "1", "NX"), "checking for a Redis loss").then(
      (created) => {
        if (created === "OK" && markerSet) {
          log.warn("redis lost its data (flushed or restarted empty): reconciling");
          void run("redis_back");
        }
        markerSet = true;
      },
      () => {},
    );
  }, LOSS_CHECK_MS);
  lossWatch.unref();

  const handle = {
    run,
    stop() {
      clearInterval(timer);
      clearInterval(lossWatch);
      stopRedisBack();
      subscriber.disconnect();
      globalForReconciler.goatReconciler = undefined;
    },
  };
  globalForReconciler.goatReconciler = handle;
  return handle;
}
