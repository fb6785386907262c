import "server-only";
import { timingSafeEqual } from "node:crypto";
import client from "prom-client";
import { z } from "zod";
import { db } from "../db";
import { log } from "../log";
import { webMetrics } from "../observability/metrics";
import { queueCounts, evaluationQueue, withTimeout } from "../queue/evaluation-queue";
import { parseFigures, workerHealth } from "./worker-health";

/**
 * The web app's /metrics (prom-client's registry, lib/observability/metrics.ts). Counters are
 * updated as things happen; the gauges below are read when Prometheus scrapes: the queue from
 * Redis, submissions and workers from Postgres (the same in every replica). Evaluation counts and
 * durations are the workers' own /metrics (worker/src/observability.ts).
 */

// Read here, not in lib/env.ts, to keep this feature self-contained; at least 16 characters so
// a guessable token cannot expose the platform's figures.
const metricsEnvSchema = z.object({ METRICS_TOKEN: z.string().min(16).optional().or(z.literal("").transform(() => undefined)) });

export function metricsToken(): string | undefined {
  const parsed = metricsEnvSchema.safeParse(process.env);
  if (!parsed.success) {
    log.error("METRICS_TOKEN must be at least 16 characters; /metrics stays off until it is.");
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

type Collector = (gauge: client.Gauge<string>) => Promise<void>;

function scrapedGauge(registry: client.Registry, name: string, help: string, labelNames: string[], collect: Collector): void {
  if (registry.getSingleMetric(name)) return;
  new client.Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      // A source that is down leaves its series out of this scrape rather than failing it.
      await collect(this).catch(() => {});
    },
  });
}

const MB = 1024 * 1024;

function registerScrapedGauges(registry: client.Registry): void {
  scrapedGauge(registry, "goat_queue_jobs", "Evaluation jobs in the queue by state.", ["state"], async (gauge) => {
    const counts = await queueCounts();
    gauge.set({ state: "waiting" }, counts.waiting);
    gauge.set({ state: "active" }, counts.running);
    gauge.set({ state: "delayed" }, counts.delayed);
  });
  scrapedGauge(registry, "goat_queue_paused", "1 while an organiser has paused the evaluation queue.", [], async (gauge) => {
    gauge.set((await withTimeout(evaluationQueue().isPaused(), "reading the pause")) ? 1 : 0);
  });
  scrapedGauge(registry, "goat_submissions", "Submissions by status and, for failures, whose fault.", ["status", "failure_kind"], async (gauge) => {
    const groups = await db.submission.groupBy({ by: ["status", "failureKind"], _count: { _all: true } });
    for (const group of groups) gauge.set({ status: group.status, failure_kind: group.failureKind ?? "" }, group._count._all);
  });
  const workerRows = () =>
    db.worker.findMany({ select: { id: true, host: true, state: true, lastHeartbeatAt: true, heartbeatIntervalMs: true, figures: true } });
  scrapedGauge(registry, "goat_worker_up", "1 while a worker heartbeats on time (online, draining or paused), 0 when lost or stopped.", ["worker", "host"], async (gauge) => {
    const now = new Date();
    for (const worker of await workerRows()) {
      const health = workerHealth(worker, now);
      gauge.set({ worker: worker.id, host: worker.host }, health === "online" || health === "draining" || health === "paused" ? 1 : 0);
    }
  });
  const gpuGauge = (name: string, help: string, read: (gpu: NonNullable<ReturnType<typeof parseFigures>>["gpu"]) => number | null | undefined) =>
    scrapedGauge(registry, name, `${help} (nvidia-smi, from the worker's heartbeat)`, ["worker", "host", "gpu"], async (gauge) => {
      for (const worker of await workerRows()) {
        const gpu = parseFigures(worker.figures)?.gpu;
        const value = gpu ? read(gpu) : null;
        if (gpu && value != null) gauge.set({ worker: worker.id, host: worker.host, gpu: gpu.name }, value);
      }
    });
  gpuGauge("goat_worker_gpu_memory_used_bytes", "GPU memory in use on each worker's GPU", (gpu) => (gpu?.memoryUsedMb == null ? null : gpu.memoryUsedMb * MB));
  gpuGauge("goat_worker_gpu_memory_total_bytes", "GPU memory of each worker's GPU", (gpu) => (gpu?.memoryTotalMb == null ? null : gpu.memoryTotalMb * MB));
  gpuGauge("goat_worker_gpu_utilization_ratio", "GPU utilisation of each worker's GPU, 0-1", (gpu) => (gpu?.utilizationPercent == null ? null : gpu.utilizationPercent / 100));
}

/** The exposition and its content type (Prometheus text format). */
export async function prometheusMetrics(): Promise<{ contentType: string; text: string }> {
  const { registry } = webMetrics();
  registerScrapedGauges(registry);
  return { contentType: registry.contentType, text: await registry.metrics() };
}
