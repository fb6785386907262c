import "server-only";
import { db } from "../db";
import { evaluationQueue, queueCounts } from "../queue/evaluation-queue";
import type { SessionUser } from "../auth/session";
import { recentAuditEntries, type AuditEntryView } from "./audit";
import { assertAdmin } from "./authorize";
import { liveRooms, memoryShortfalls, type MemoryShortfall } from "./memory-room";
import { everyMinute, type ThroughputMinute } from "./throughput";
import { parseFigures, workerHealth, type WorkerHealth } from "./worker-health";

/** Everything the admin dashboard shows, in one JSON-able snapshot that the page polls. */
export interface WorkerView {
  id: string;
  host: string;
  executionProvider: string;
  health: WorkerHealth;
  currentSubmissionId: number | null;
  lastHeartbeatAt: string;
  gpu: { name: string; memoryUsedMb: number | null; memoryTotalMb: number | null; utilizationPercent: number | null; temperatureC: number | null; powerDrawW: number | null } | null;
  gpuUnavailableReason: string | null;
  gpuMemLimitMb: number | null;
  /** usagePercent: the host's; workerUsagePercent: the worker's own process and sandbox children (both shares of all cores) */
  cpu: { usagePercent: number | null; workerUsagePercent: number | null; cores: number; memoryUsedMb: number; memoryTotalMb: number } | null;
  /**
   * the memory a model could have on this worker, read while it was idle (null: unknown); for a
   * live worker that shares its host's memory with others, its share (lib/admin/memory-room.ts)
   */
  modelMemoryRoomMb: number | null;
  /** how many live workers share that memory (1: its own limit bounds it) */
  modelMemoryRoomSharedBy: number;
}

export interface DashboardSnapshot {
  at: string;
  workers: WorkerView[];
  queue: { paused: boolean; waiting: number; running: number; scoredLastHour: number; failedLastHour: number; oldestWaitingAgeS: number | null };
  /** per minute over the last hour */
  throughput: ThroughputMinute[];
  /** per worker, samples of the last 30 minutes */
  workerSeries: { workerId: string; points: { at: string; gpuMemUsedMb: number | null; gpuUtilPercent: number | null; cpuPercent: number | null; memUsedMb: number | null }[] }[];
  failures: { id: number; task: string; team: string; kind: "PARTICIPANT" | "PLATFORM" | null; message: string | null; finishedAt: string | null }[];
  failureCounts: { participant: number; platform: number };
  /** open tasks (no closing time, or one to come) against the live workers' room for a model */
  memoryShortfalls: MemoryShortfall[];
  submissions: { id: number; task: string; team: string; status: string; failureKind: string | null; workerId: string | null; createdAt: string; isReference: boolean; score: number | null; metric: string }[];
  audit: AuditEntryView[];
}

export async function dashboardSnapshot(actor: SessionUser | null, now = new Date()): Promise<DashboardSnapshot> {
  assertAdmin(actor);
  const hourAgo = new Date(now.getTime() - 3600_000);
  const [workers, counts, paused, scoredLastHour, failedLastHour, oldest, throughputRows, samples, failures, failureGroups, submissions, audit, openTasks] = await Promise.all([
    db.worker.findMany({
      // A worker gone for a day (stopped, or lost and never back) drops off the list; its row stays.
      where: { lastHeartbeatAt: { gte: new Date(now.getTime() - 24 * 3600_000) } },
      orderBy: { id: "asc" },
      select: { id: true, host: true, executionProvider: true, state: true, drainRequestedAt: true, lastHeartbeatAt: true, heartbeatIntervalMs: true, currentSubmissionId: true, gpuMemLimitMb: true, figures: true },
    }),
    queueCounts().catch(() => ({ waiting: 0, running: 0, delayed: 0, workersOnline: 0 })),
    evaluationQueue().isPaused().catch(() => false),
    db.submission.count({ where: { status: "SCORED", finishedAt: { gte: hourAgo } } }),
    db.submission.count({ where: { status: "FAILED", finishedAt: { gte: hourAgo } } }),
    db.submission.findFirst({ where: { status: "QUEUED" }, orderBy: { createdAt: "asc" }, select: { createdAt: true } }),
    db.$queryRaw<{ minute: Date; scored: bigint; failed: bigint; avg_ms: number | null }[]>`
      SELECT date_trunc('minute', finished_at) AS minute,
             COUNT(*) FILTER (WHERE status = 'SCORED') AS scored,
             COUNT(*) FILTER (WHERE status = 'FAILED') AS failed,
             AVG(EXTRACT(EPOCH FROM (finished_at - started_at)) * 1000) FILTER (WHERE status = 'SCORED') AS avg_ms
      FROM submissions WHERE finished_at >= ${hourAgo} AND status IN ('SCORED', 'FAILED')
      GROUP BY 1 ORDER BY 1`,
    db.workerSample.findMany({
      where: { at: { gte: new Date(now.getTime() - 30 * 60_000) } },
      orderBy: { at: "asc" },
      select: { workerId: true, at: true, gpuMemUsedMb: true, gpuUtilPercent: true, cpuPercent: true, memUsedMb: true },
    }),
    db.submission.findMany({
      where: { status: "FAILED" },
      orderBy: { finishedAt: "desc" },
      take: 20,
      select: { id: true, failureKind: true, message: true, finishedAt: true, task: { select: { slug: true } }, team: { select: { name: true } } },
    }),
    db.submission.groupBy({ by: ["failureKind"], where: { status: "FAILED" }, _count: { _all: true } }),
    db.submission.findMany({
      orderBy: { id: "desc" },
      take: 30,
      select: {
        id: true,
        status: true,
        failureKind: true,
        workerId: true,
        createdAt: true,
        isReference: true,
        task: { select: { slug: true, rankMetric: true } },
        team: { select: { name: true } },
        result: { select: { publicScore: true } },
      },
    }),
    recentAuditEntries(actor, 20),
    db.task.findMany({ where: { OR: [{ closesAt: null }, { closesAt: { gt: now } }] }, orderBy: { slug: "asc" }, select: { slug: true, evalMemoryMb: true } }),
  ]);

  const series = new Map<string, DashboardSnapshot["workerSeries"][number]["points"]>();
  for (const sample of samples) {
    const points = series.get(sample.workerId) ?? [];
    points.push({ at: sample.at.toISOString(), gpuMemUsedMb: sample.gpuMemUsedMb, gpuUtilPercent: sample.gpuUtilPercent, cpuPercent: sample.cpuPercent, memUsedMb: sample.memUsedMb });
    series.set(sample.workerId, points);
  }

  const reported = workers.map((worker) => {
    const figures = parseFigures(worker.figures);
    return {
      id: worker.id,
      host: worker.host,
      executionProvider: worker.executionProvider,
      health: workerHealth(worker, now),
      currentSubmissionId: worker.currentSubmissionId,
      lastHeartbeatAt: worker.lastHeartbeatAt.toISOString(),
      gpu: figures?.gpu
        ? { name: figures.gpu.name, memoryUsedMb: figures.gpu.memoryUsedMb, memoryTotalMb: figures.gpu.memoryTotalMb, utilizationPercent: figures.gpu.utilizationPercent, temperatureC: figures.gpu.temperatureC, powerDrawW: figures.gpu.powerDrawW }
        : null,
      gpuUnavailableReason: figures?.gpuUnavailableReason ?? null,
      gpuMemLimitMb: worker.gpuMemLimitMb,
      cpu: figures
        ? { usagePercent: figures.cpu.usagePercent, workerUsagePercent: figures.cpu.workerUsagePercent ?? null, cores: figures.cpu.cores, memoryUsedMb: figures.cpu.memoryUsedMb, memoryTotalMb: figures.cpu.memoryTotalMb }
        : null,
      modelMemoryRoomMb: figures?.cpu.modelMemoryRoomMb ?? null,
      modelMemoryRoomSharedHost: figures?.cpu.modelMemoryRoomSharedHost ?? null,
    };
  });
  // A live worker's room is its share of what it draws on; a stopped or lost one shows what it last reported.
  const rooms = liveRooms(reported);
  const workerViews: WorkerView[] = reported.map(({ modelMemoryRoomSharedHost: _host, ...view }) => {
    const room = rooms.find((each) => each.workerId === view.id);
    return { ...view, modelMemoryRoomMb: room?.roomMb ?? view.modelMemoryRoomMb, modelMemoryRoomSharedBy: room?.sharedBy ?? 1 };
  });

  return {
    at: now.toISOString(),
    workers: workerViews,
    queue: {
      paused,
      waiting: counts.waiting + counts.delayed,
      running: counts.running,
      scoredLastHour,
      failedLastHour,
      oldestWaitingAgeS: oldest ? Math.max(0, Math.round((now.getTime() - oldest.createdAt.getTime()) / 1000)) : null,
    },
    throughput: everyMinute(throughputRows, hourAgo, now),
    workerSeries: [...series].map(([workerId, points]) => ({ workerId, points })),
    failures: failures.map((row) => ({
      id: row.id,
      task: row.task.slug,
      team: row.team.name,
      kind: row.failureKind,
      message: row.message,
      finishedAt: row.finishedAt?.toISOString() ?? null,
    })),
    memoryShortfalls: memoryShortfalls(openTasks, rooms),
    failureCounts: {
      participant: failureGroups.find((group) => group.failureKind === "PARTICIPANT")?._count._all ?? 0,
      platform: failureGroups.find((group) => group.failureKind === "PLATFORM")?._count._all ?? 0,
    },
    submissions: submissions.map((row) => ({
      id: row.id,
      task: row.task.slug,
      team: row.team.name,
      status: row.status,
      failureKind: row.failureKind,
      workerId: row.workerId,
      createdAt: row.createdAt.toISOString(),
      isReference: row.isReference,
      score: row.result?.publicScore ?? null,
      metric: row.task.rankMetric,
    })),
    audit,
  };
}
