import "server-only";
import { timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { db } from "../db";
import { queueCounts, evaluationQueue } from "../queue/evaluation-queue";
import { parseFigures, workerHealth } from "./worker-health";

/**
 * The /metrics exposition (Prometheus text format 0.0.4). Counts come from Postgres, the source
 * of truth, so every web process answers the same and a restart loses nothing.
 */
export const EVALUATION_SECONDS_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

// Read here, not in lib/env.ts, to keep this feature self-contained; at least 16 characters so
// a guessable token cannot expose the platform's figures.
const metricsEnvSchema = z.object({ METRICS_TOKEN: z.string().min(16).optional().or(z.literal("").transform(() => undefined)) });

export function metricsToken(): string | undefined {
  const parsed = metricsEnvSchema.safeParse(process.env);
  if (!parsed.success) {
    console.error("[metrics] METRICS_TOKEN must be at least 16 characters; /metrics stays off until it is.");
    return undefined;
  }
  return parsed.data.METRICS_TOKEN;
}

/** Bearer METRICS_TOKEN, compared in constant time; no token configured means /metrics is off. */
export function metricsAuthorized(authorization: string | null, token: string | undefined): boolean {
  if (!token) return false;
  const given = Buffer.from(authorization?.replace(/^Bearer\s+/i, "") ?? "");
  const expected = Buffer.from(token);
  return authorization?.toLowerCase().startsWith("bearer ") === true && given.length === expected.length && timingSafeEqual(given, expected);
}

function label(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

export async function prometheusMetrics(now = new Date()): Promise<string> {
  const [counts, paused, byStatus, durations, workers] = await Promise.all([
    queueCounts().catch(() => null),
    evaluationQueue().isPaused().catch(() => false),
    db.submission.groupBy({ by: ["status", "failureKind"], _count: { _all: true } }),
    db.$queryRaw<{ le: number; n: bigint }[]>`
      SELECT b.le, COUNT(s.id) AS n
      FROM unnest(${EVALUATION_SECONDS_BUCKETS}::float8[]) AS b(le)
      LEFT JOIN submissions s ON s.status = 'SCORED' AND s.started_at IS NOT NULL AND s.finished_at IS NOT NULL
        AND EXTRACT(EPOCH FROM (s.finished_at - s.started_at)) <= b.le
      GROUP BY b.le ORDER BY b.le`,
    db.worker.findMany({ select: { id: true, host: true, state: true, lastHeartbeatAt: true, heartbeatIntervalMs: true, figures: true, gpuMemLimitMb: true } }),
  ]);
  const totals = await db.$queryRaw<{ n: bigint; sum: number | null }[]>`
    SELECT COUNT(*) AS n, SUM(EXTRACT(EPOCH FROM (finished_at - started_at))) AS sum
    FROM submissions WHERE status = 'SCORED' AND started_at IS NOT NULL AND finished_at IS NOT NULL`;

  const lines: string[] = [];
  const metric = (name: string, type: string, help: string) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);

  metric("goat_queue_jobs", "gauge", "Evaluation jobs in the queue by state.");
  if (counts) {
    lines.push(`goat_queue_jobs{state="waiting"} ${counts.waiting}`, `goat_queue_jobs{state="active"} ${counts.running}`, `goat_queue_jobs{state="delayed"} ${counts.delayed}`);
  }
  metric("goat_queue_paused", "gauge", "1 while an organiser has paused the evaluation queue.");
  lines.push(`goat_queue_paused ${paused ? 1 : 0}`);

  metric("goat_submissions", "gauge", "Submissions by status and, for failures, whose fault.");
  for (const group of byStatus) {
    lines.push(`goat_submissions{status="${group.status}",failure_kind="${group.failureKind ?? ""}"} ${group._count._all}`);
  }

  metric("goat_evaluation_duration_seconds", "histogram", "Time from a worker claiming a submission to its stored result.");
  for (const bucket of durations) lines.push(`goat_evaluation_duration_seconds_bucket{le="${bucket.le}"} ${Number(bucket.n)}`);
  lines.push(`goat_evaluation_duration_seconds_bucket{le="+Inf"} ${Number(totals[0]?.n ?? 0)}`);
  lines.push(`goat_evaluation_duration_seconds_sum ${Number(totals[0]?.sum ?? 0)}`);
  lines.push(`goat_evaluation_duration_seconds_count ${Number(totals[0]?.n ?? 0)}`);

  metric("goat_worker_up", "gauge", "1 while a worker heartbeats on time (online or draining), 0 when lost or stopped.");
  const gpuLines: string[] = [];
  for (const worker of workers) {
    const health = workerHealth(worker, now);
    const labels = `worker="${label(worker.id)}",host="${label(worker.host)}"`;
    lines.push(`goat_worker_up{${labels}} ${health === "online" || health === "draining" ? 1 : 0}`);
    const gpu = parseFigures(worker.figures)?.gpu;
    if (gpu?.memoryUsedMb != null) gpuLines.push(`goat_worker_gpu_memory_used_bytes{${labels},gpu="${label(gpu.name)}"} ${gpu.memoryUsedMb * 1024 * 1024}`);
    if (gpu?.memoryTotalMb != null) gpuLines.push(`goat_worker_gpu_memory_total_bytes{${labels},gpu="${label(gpu.name)}"} ${gpu.memoryTotalMb * 1024 * 1024}`);
    if (gpu?.utilizationPercent != null) gpuLines.push(`goat_worker_gpu_utilization_ratio{${labels},gpu="${label(gpu.name)}"} ${gpu.utilizationPercent / 100}`);
  }
  metric("goat_worker_gpu_memory_used_bytes", "gauge", "GPU memory in use on each worker's GPU (nvidia-smi).");
  lines.push(...gpuLines.filter((line) => line.startsWith("goat_worker_gpu_memory_used")));
  metric("goat_worker_gpu_memory_total_bytes", "gauge", "GPU memory of each worker's GPU (nvidia-smi).");
  lines.push(...gpuLines.filter((line) => line.startsWith("goat_worker_gpu_memory_total")));
  metric("goat_worker_gpu_utilization_ratio", "gauge", "GPU utilisation of each worker's GPU, 0-1 (nvidia-smi).");
  lines.push(...gpuLines.filter((line) => line.startsWith("goat_worker_gpu_utilization")));
  return lines.join("\n") + "\n";
}
