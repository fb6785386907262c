import "server-only";
import { db } from "../db";
import { enqueueEvaluation, hasLiveJob } from "./evaluation-queue";

/**
 * Postgres is the source of truth: a QUEUED submission must have a job. After a Redis loss
 * (or an add that failed while Redis was down) the job is gone; this puts it back.
 * A RUNNING submission whose job vanished and whose evaluation is long overdue goes back to QUEUED.
 */
export async function reconcileEvaluationQueue(now = new Date()): Promise<{ requeued: number[] }> {
  const requeued: number[] = [];

  const queued = await db.submission.findMany({ where: { status: "QUEUED" }, select: { id: true }, orderBy: { id: "asc" } });
  for (const { id } of queued) {
    if (!(await hasLiveJob(id))) {
      await enqueueEvaluation(id, "reconcile", { replaceFinished: true });
      requeued.push(id);
    }
  }

  const running = await db.submission.findMany({
    where: { status: "RUNNING" },
    select: { id: true, startedAt: true, task: { select: { evalTimeoutMs: true } } },
  });
  for (const submission of running) {
    const overdueAfter = submission.task.evalTimeoutMs + 5 * 60_000;
    const started = submission.startedAt?.getTime() ?? 0;
    if (now.getTime() - started < overdueAfter) continue;
    if (await hasLiveJob(submission.id)) continue;
    const { count } = await db.submission.updateMany({
      where: { id: submission.id, status: "RUNNING" },
      data: { status: "QUEUED", workerId: null },
    });
    if (count === 1) {
      await enqueueEvaluation(submission.id, "reconcile", { replaceFinished: true });
      requeued.push(submission.id);
    }
  }
  return { requeued };
}

let timer: NodeJS.Timeout | undefined;

/** Runs the reconciler now and then every `intervalMs`; errors are logged, never thrown. */
export function startReconciler(intervalMs: number): () => void {
  const tick = () =>
    reconcileEvaluationQueue()
      .then(({ requeued }) => {
        if (requeued.length) console.info(`[reconciler] re-added jobs for submissions ${requeued.join(", ")}`);
      })
      .catch((error: Error) => console.warn(`[reconciler] ${error.message}`));
  void tick();
  if (intervalMs > 0 && !timer) {
    timer = setInterval(tick, intervalMs);
    timer.unref();
  }
  return () => {
    clearInterval(timer);
    timer = undefined;
  };
}
