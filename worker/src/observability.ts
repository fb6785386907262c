import client from "prom-client";
import type { WorkerFigures } from "@goat/contracts/worker-heartbeat";

/**
 * The worker's own Prometheus metrics (prom-client), served on its health port at /metrics
 * (health.ts): default process metrics, evaluations by outcome and their duration as they happen,
 * sandbox kills for the limits, whether it paused for a sandbox that would not start, and the
 * latest GPU/CPU figures of its heartbeat. Prometheus sums
 * them across workers; docs/observability.md has the scrape configuration and a dashboard.
 */
export interface WorkerMetrics {
  registry: client.Registry;
  evaluations: client.Counter<"outcome">;
  evaluationSeconds: client.Histogram<string>;
  /** Counts the sandbox kills that a participant fault code stands for (time or memory limit). */
  countSandboxKill(code: string): void;
  /** 1 while the worker takes no jobs because its sandbox would not start (sandbox-breaker.ts). */
  sandboxPaused: client.Gauge;
  recordFigures(figures: WorkerFigures): void;
}

export const EVALUATION_SECONDS_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

// The pool kills the child at these limits (MEMORY_LIMIT covers host RAM and, on CUDA, GPU_MEM_LIMIT_MB).
const KILL_REASONS: Record<string, string> = { TIMEOUT: "timeout", MEMORY_LIMIT: "memory" };

let metrics: WorkerMetrics | undefined;

/** One set per process (prom-client refuses to register a name twice in a registry). */
export function workerMetrics(): WorkerMetrics {
  if (metrics) return metrics;
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  let figures: WorkerFigures | undefined;
  const gauge = (name: string, help: string, read: (f: WorkerFigures) => number | null | undefined) =>
    new client.Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const value = figures ? read(figures) : undefined;
        if (value == null) this.reset();
        else this.set(value);
      },
    });
  gauge("goat_worker_gpu_memory_used_bytes", "GPU memory in use on this worker's GPU (nvidia-smi).", (f) => (f.gpu?.memoryUsedMb == null ? null : f.gpu.memoryUsedMb * 1024 * 1024));
  gauge("goat_worker_gpu_memory_total_bytes", "GPU memory of this worker's GPU (nvidia-smi).", (f) => (f.gpu?.memoryTotalMb == null ? null : f.gpu.memoryTotalMb * 1024 * 1024));
  gauge("goat_worker_gpu_utilization_ratio", "GPU utilisation of this worker's GPU, 0-1 (nvidia-smi).", (f) => (f.gpu?.utilizationPercent == null ? null : f.gpu.utilizationPercent / 100));
  gauge("goat_worker_cpu_usage_ratio", "CPU usage of this worker's host, 0-1.", (f) => (f.cpu.usagePercent == null ? null : f.cpu.usagePercent / 100));
  const kills = new client.Counter({ name: "goat_sandbox_kills_total", help: "Sandbox processes killed for exceeding a limit, by limit.", labelNames: ["reason"], registers: [registry] });
  metrics = {
    registry,
    evaluations: new client.Counter({
      name: "goat_evaluations_total",
      help: "Evaluations finished by this worker, by outcome (scored, participant_fault, platform_fault, skipped).",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    evaluationSeconds: new client.Histogram({
      name: "goat_evaluation_duration_seconds",
      help: "Time from a worker claiming a submission to its stored result.",
      buckets: EVALUATION_SECONDS_BUCKETS,
      registers: [registry],
    }),
    sandboxPaused: new client.Gauge({
      name: "goat_worker_sandbox_paused",
      help: "1 while this worker takes no jobs because its sandbox processes would not start; it checks them with backoff.",
      registers: [registry],
    }),
    countSandboxKill(code) {
      const reason = KILL_REASONS[code];
      if (reason) kills.inc({ reason });
    },
    recordFigures(latest) {
      figures = latest;
    },
  };
  return metrics;
}
