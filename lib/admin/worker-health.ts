import "server-only";
import { LOST_AFTER_HEARTBEATS, workerFiguresSchema, type WorkerFigures } from "@goat/contracts/worker-heartbeat";
import { db } from "../db";
import { env } from "../env";
import { publishSubmissionStatus } from "../events/submission-events";
import { log } from "../log";
import { webMetrics } from "../observability/metrics";
import { connectedWorkerIds, enqueueEvaluation, queueRedis } from "../queue/evaluation-queue";
import { runExclusively } from "../queue/exclusive-run";
import { notifyWebhooks } from "../webhooks/queue";
import { recordAudit } from "./audit";
import { liveRooms, type WorkerRoom } from "./memory-room";

/**
 * Workers as the dashboard sees them. "Lost" is derived, not stored: a worker whose last
 * heartbeat is older than LOST_AFTER_HEARTBEATS x its own interval. The sweep hands a lost
 * worker's running submission back to the queue.
 */
export type WorkerHealth = "online" | "draining" | "paused" | "stopped" | "lost";

export function workerHealth(
  row: { state: "ONLINE" | "DRAINING" | "PAUSED" | "STOPPED"; lastHeartbeatAt: Date; heartbeatIntervalMs: number; drainRequestedAt?: Date | null },
  now = new Date(),
): WorkerHealth {
  if (row.state === "STOPPED") return "stopped";
  if (now.getTime() - row.lastHeartbeatAt.getTime() > LOST_AFTER_HEARTBEATS * row.heartbeatIntervalMs) return "lost";
  // A drain request counts at once: the worker only notices it at its next heartbeat, and the
  // dashboard must not show it online in between.
  if (row.state === "DRAINING" || row.drainRequestedAt) return "draining";
  // Its sandbox processes would not start: it takes no jobs until a check passes (worker/src/sandbox-breaker.ts).
  return row.state === "PAUSED" ? "paused" : "online";
}

export function parseFigures(json: unknown): WorkerFigures | null {
  const parsed = workerFiguresSchema.safeParse(json);
  return parsed.success ? parsed.data : null;
}

/** The live workers' room for a model now, from their last heartbeats (smallest first): ./memory-room.ts. */
export async function liveWorkerRooms(now = new Date()): Promise<WorkerRoom[]> {
  const workers = await db.worker.findMany({
    where: { state: { not: "STOPPED" } },
    select: { id: true, state: true, drainRequestedAt: true, lastHeartbeatAt: true, heartbeatIntervalMs: true, figures: true },
  });
  const rooms = liveRooms(
    workers.map((worker) => {
      const cpu = parseFigures(worker.figures)?.cpu;
      return { id: worker.id, health: workerHealth(worker, now), modelMemoryRoomMb: cpu?.modelMemoryRoomMb ?? null, modelMemoryRoomSharedHost: cpu?.modelMemoryRoomSharedHost ?? null };
    }),
  );
  return rooms.sort((a, b) => a.roomMb - b.roomMb || a.workerId.localeCompare(b.workerId));
}

/**
 * Finds workers that stopped heartbeating and hands their RUNNING submissions back: QUEUED again
 * and the job re-added. Only a submission still RUNNING on that worker moves (another worker may
 * already have taken it over through BullMQ's stalled check), and whichever evaluation finishes
 * first writes the one result: only a RUNNING submission becomes SCORED and results.submission_id
 * is unique. Each worker is handed back once (lostAt), until it heartbeats again.
 *
 * The sweep agrees with BullMQ: a worker still connected to the queue is alive (its heartbeats may
 * have failed only because Postgres was down, and its job's lock is still renewed), so it is not
 * lost. A dead worker's connection closes with its process; its job then moves by the stalled check.
 */
export async function handBackLostWorkers(now = new Date()): Promise<{ lost: string[]; requeued: number[] }> {
  const candidates = await db.worker.findMany({
    where: { state: { not: "STOPPED" }, lostAt: null },
    select: { id: true, state: true, lastHeartbeatAt: true, heartbeatIntervalMs: true },
  });
  const lost: string[] = [];
  const requeued: number[] = [];
  const silent = candidates.filter((worker) => workerHealth(worker, now) === "lost");
  if (silent.length === 0) return { lost, requeued };
  // Without Redis no one can tell a dead worker from a live one: this throws and the sweep waits;
  // right after Redis came back (undefined) the workers are still reconnecting: a later sweep decides.
  const connected = await connectedWorkerIds(now.getTime());
  if (connected === undefined) return { lost, requeued };
  for (const worker of silent) {
    if (connected.has(worker.id)) continue;
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
      log.info({ submissionId: id, workerId: worker.id, status: "QUEUED" }, `submission ${id} handed back: its worker ${worker.id} was lost`);
      await enqueueEvaluation(id, "reconcile").catch((error: Error) =>
        log.warn({ submissionId: id, err: error }, `could not re-add submission ${id}: ${error.message}`),
      );
      await publishSubmissionStatus(id);
    }
    await recordAudit(db, null, "worker.lost", `worker:${worker.id}`, { lastHeartbeatAt: worker.lastHeartbeatAt.toISOString(), requeued: handedBack });
    await notifyWebhooks({ trigger: "worker-lost", workerId: worker.id, requeued: handedBack });
  }
  return { lost, requeued };
}

const globalForSweep = globalThis as unknown as { goatWorkerSweep?: NodeJS.Timeout };

/** One sweep, in one web replica at a time (a Redis lock); skipped when another replica holds it. */
export async function sweepLostWorkersExclusively(): Promise<{ lost: string[]; requeued: number[] } | null> {
  const outcome = await runExclusively(queueRedis(), `${env().QUEUE_PREFIX}:lock:worker-sweep`, 60_000, () => handBackLostWorkers());
  if (!outcome.ran) return null;
  const { lost, requeued } = outcome.value;
  if (lost.length) {
    webMetrics().workersLost.inc(lost.length);
    webMetrics().submissionsHandedBack.inc(requeued.length);
    log.warn({ lost, requeued }, `workers lost: ${lost.join(", ")}; handed back submissions ${requeued.join(", ") || "none"}`);
  }
  return outcome.value;
}

/** Runs the lost-worker sweep every `intervalMs` in this web process; errors are logged. */
export function startWorkerHealthSweep(intervalMs = 5_000): () => void {
  const stop = () => {
    clearInterval(globalForSweep.goatWorkerSweep);
    globalForSweep.goatWorkerSweep = undefined;
  };
  if (globalForSweep.goatWorkerSweep || intervalMs <= 0) return stop;
  globalForSweep.goatWorkerSweep = setInterval(() => {
    sweepLostWorkersExclusively().catch((error: Error) => log.warn({ err: error }, `worker sweep: ${error.message}`));
  }, intervalMs);
  globalForSweep.goatWorkerSweep.unref();
  return stop;
}
