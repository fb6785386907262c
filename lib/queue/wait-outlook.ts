import "server-only";
import { serviceOrder } from "@goat/contracts/fair-queue";
import { db } from "../db";
import { evaluationQueue, withTimeout } from "./evaluation-queue";

/**
 * Where a waiting submission stands: its place in the order the scheduler serves (the fair order of
 * @goat/contracts/fair-queue, the one BullMQ's priorities follow), an ETA, and why it waits when
 * something stops it. docs/queue.md says how the ETA is computed.
 */
export type WaitReasonCode = "QUEUE_PAUSED" | "NO_WORKER_ONLINE" | "TEAM_AT_LIMIT";

export interface WaitReason {
  code: WaitReasonCode;
  message: string;
}

export interface WaitOutlook {
  /** 1 = served next */
  queuePosition: number;
  /** seconds until its evaluation starts; null when unknown (no recent evaluation of the task, or no worker) */
  etaSeconds: number | null;
  waitReasons: WaitReason[];
}

/** How many recent evaluations of a task give its typical duration. */
const RECENT_EVALUATIONS = 20;

interface QueueState {
  paused: boolean | null;
  workersOnline: number | null;
}

/** Every waiting submission, in the order the scheduler serves them. */
export async function waitingInServiceOrder(): Promise<{ id: number }[]> {
  return serviceOrder(await db.submission.findMany({ where: { status: "QUEUED" }, select: { id: true, queuePriority: true, queuedAt: true } }));
}

/** The scheduler's view, read once per answer: every waiting submission in serving order, the queue's state. */
export class QueueSnapshot {
  private readonly positions: Map<number, number>;
  private readonly durations = new Map<number, Promise<number | null>>();

  private constructor(
    order: { id: number }[],
    readonly state: QueueState,
  ) {
    this.positions = new Map(order.map((row, index) => [row.id, index + 1]));
  }

  static async read(): Promise<QueueSnapshot> {
    const order = await waitingInServiceOrder();
    const queue = evaluationQueue();
    // Redis may be down: the position (from Postgres) is still right, the rest is unknown.
    const state = await withTimeout(Promise.all([queue.isPaused(), queue.getWorkersCount()]), "reading the queue").then(
      ([paused, workersOnline]): QueueState => ({ paused, workersOnline }),
      (): QueueState => ({ paused: null, workersOnline: null }),
    );
    return new QueueSnapshot(order, state);
  }

  position(submissionId: number): number | null {
    return this.positions.get(submissionId) ?? null;
  }

  /** The median of the task's recent evaluation times (start to result), in ms; null without data. */
  private typicalDurationMs(taskId: number): Promise<number | null> {
    let duration = this.durations.get(taskId);
    if (!duration) {
      duration = db.submission
        .findMany({
          where: { taskId, status: "SCORED", startedAt: { not: null }, finishedAt: { not: null } },
          orderBy: { finishedAt: "desc" },
          take: RECENT_EVALUATIONS,
          select: { startedAt: true, finishedAt: true },
        })
        .then((rows) => {
          const times = rows.map((row) => row.finishedAt!.getTime() - row.startedAt!.getTime()).sort((a, b) => a - b);
          return times.length ? times[Math.floor((times.length - 1) / 2)] : null;
        });
      this.durations.set(taskId, duration);
    }
    return duration;
  }

  async outlook(submission: { id: number; taskId: number; teamId: number }): Promise<WaitOutlook | null> {
    const queuePosition = this.position(submission.id);
    if (queuePosition === null) return null;
    const [typicalMs, teamRunning, task] = await Promise.all([
      this.typicalDurationMs(submission.taskId),
      db.submission.count({ where: { teamId: submission.teamId, taskId: submission.taskId, status: "RUNNING" } }),
      db.task.findUnique({ where: { id: submission.taskId }, select: { maxRunningPerTeam: true } }),
    ]);
    const workers = this.state.workersOnline;
    const waitReasons: WaitReason[] = [];
    if (this.state.paused) waitReasons.push({ code: "QUEUE_PAUSED", message: "The organisers have paused the queue; evaluations resume when they start it again." });
    if (workers === 0) waitReasons.push({ code: "NO_WORKER_ONLINE", message: "No evaluation worker is online right now." });
    const limit = task?.maxRunningPerTeam ?? 0;
    if (teamRunning >= limit) {
      waitReasons.push({ code: "TEAM_AT_LIMIT", message: `Your team already has ${teamRunning} evaluations running for this task, its limit; this one starts when one of them ends.` });
    }
    // Each worker serves one submission at a time: the ones ahead start in rounds of `workers`, and
    // this one starts after ceil(position / workers) rounds of the task's typical duration.
    const etaSeconds =
      typicalMs === null || !workers || this.state.paused ? null : Math.round((Math.ceil(queuePosition / workers) * typicalMs) / 1000);
    return { queuePosition, etaSeconds, waitReasons };
  }
}
