import "server-only";
import { LOST_AFTER_HEARTBEATS, workerFiguresSchema, type WorkerFigures } from "@goat/contracts/worker-heartbeat";
import { db } from "../db";
import { publishSubmissionStatus } from "../events/submission-events";
import { enqueueEvaluation } from "../queue/evaluation-queue";
import { recordAudit } from "./audit";

/**
 * Workers as the dashboard sees them. "Lost" is derived, not stored: a worker whose last
 * heartbeat is older than LOST_AFTER_HEARTBEATS x its own interval. The sweep hands a lost
 * worker's running submission back to the queue.
 */
export type WorkerHealth = "online" | "draining" | "stopped" | "lost";

export function workerHealth(
  row: { state: "ONLINE" | "DRAINING" | "STOPPED"; lastHeartbeatAt: Date; heartbeatIntervalMs: number; drainRequestedAt?: Date | null },
  now = new Date(),
): WorkerHealth {
  if (row.state === "STOPPED") return "stopped";
  if (now.getTime() - row.lastHeartbeatAt.getTime() > LOST_AFTER_HEARTBEATS * row.heartbeatIntervalMs) return "lost";
  // A drain request counts at once: the worker only notices it at its next heartbeat, and the
  // dashboard must not show it online in between.
  return row.state === "DRAINING" || row.drainRequestedAt ? "draining" : "online";
}

export function parseFigures(json: unknown): WorkerFigures | null {
  const parsed = workerFiguresSchema.safeParse(json);
  return parsed.success ? parsed.data : null;
}

/**
 * Finds workers that stopped heartbeating and hands their RUNNING submissions back: QUEUED again
 * and the job re-added. Only a submission still RUNNING on that worker moves (another worker may
 * already have taken it over through BullMQ's stalled check), and whichever evaluation finishes
 * first writes the one result: only a RUNNING submission becomes SCORED and results.submission_id
 * is unique. Each worker is handed back once (lostAt), until it heartbeats again.
 */
export async function handBackLostWorkers(now = new Date()): Promise<{ lost: string[]; requeued: number[] }> {
  const candidates = await db.worker.findMany({
    where: { state: { not: "STOPPED" }, lostAt: null },
    select: { id: true, state: true, lastHeartbeatAt: true, heartbeatIntervalMs: true },
  });
  const lost: string[] = [];
  const requeued: number[] = [];
  for (const worker of candidates) {
    if (workerHealth(worker, now) !== "lost") continue;
    const { count } = await db.worker.updateMany({ where: { id: worker.id, lostAt: null }, data: { lostAt: now } });
    if (count !== 1) continue; // another web process's sweep got there first
    lost.push(worker.id);
    const running = await db.submission.findMany({ where: { status: "RUNNING", workerId: worker.id }, select: { id: true } });
    const handedBack: number[] = [];
    for (const { id } of running) {
      const moved = await db.submission.updateMany({
        where: { id, status: "RUNNING", workerId: worker.id },
        data: { status: "QUEUED", workerId: null, message: "Handed back to the queue: its worker stopped responding." },
      });
      if (moved.count !== 1) continue;
      handedBack.push(id);
      requeued.push(id);
      // While the dead worker's BullMQ lock lasts the job is still "active" and this add is a
      // no-op; BullMQ's stalled check then moves it back to waiting itself.
      await enqueueEvaluation(id, "reconcile", { replaceFinished: true }).catch((error: Error) =>
        console.warn(`[workers] could not re-add submission ${id}: ${error.message}`),
      );
      await publishSubmissionStatus(id);
    }
    await recordAudit(db, null, "worker.lost", `worker:${worker.id}`, { lastHeartbeatAt: worker.lastHeartbeatAt.toISOString(), requeued: handedBack });
  }
  return { lost, requeued };
}

const globalForSweep = globalThis as unknown as { goatWorkerSweep?: NodeJS.Timeout };

/** Runs the lost-worker sweep every `intervalMs` in this web process; errors are logged. */
export function startWorkerHealthSweep(intervalMs = 5_000): void {
  if (globalForSweep.goatWorkerSweep || intervalMs <= 0) return;
  globalForSweep.goatWorkerSweep = setInterval(() => {
    handBackLostWorkers()
      .then(({ lost, requeued }) => {
        if (lost.length) console.warn(`[workers] lost: ${lost.join(", ")}; handed back submissions ${requeued.join(", ") || "none"}`);
      })
      .catch((error: Error) => console.warn(`[workers] sweep: ${error.message}`));
  }, intervalMs);
  globalForSweep.goatWorkerSweep.unref();
}
