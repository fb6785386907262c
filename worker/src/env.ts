import os from "node:os";
import { z } from "zod";
import { checkModelStorageEnv } from "@goat/contracts/model-storage";
import { platformEnvShape } from "@goat/contracts/platform-env";

/** The worker's configuration, validated once at start-up. Documented in README.md and .env.example. */
const envSchema = z.object({
  /** DATABASE_URL, REDIS_URL, QUEUE_PREFIX, model storage, DATA_DIR: shared with the web app */
  ...platformEnvShape,
  WORKER_ID: z.string().min(1).default(`${os.hostname()}-${process.pid}`),
  /** cuda: use the GPU (falls back to CPU with a warning when CUDA is unavailable); auto: CUDA if present; cpu: never the GPU */
  EXECUTION_PROVIDER: z.enum(["auto", "cuda", "cpu"]).default("auto"),
  CUDA_DEVICE_ID: z.coerce.number().int().min(0).default(0),
  /** onnxruntime's CUDA arena cap per worker (gpu_mem_limit), in MB; unset = no cap */
  GPU_MEM_LIMIT_MB: z.coerce.number().int().positive().optional(),
  INTRA_OP_THREADS: z.coerce.number().int().positive().default(1),
  /** Sandbox processes kept warm for the next evaluations, 1-4, or `auto` (sandboxSpares below) */
  SANDBOX_SPARES: z.union([z.literal("auto"), z.coerce.number().int().min(1).max(4)]).default("auto"),
  /** auto: the sandbox child's malloc heap in transparent huge pages where the kernel has them (fewer page faults); off: never (sandbox/huge-pages.ts) */
  SANDBOX_HUGE_PAGES: z.enum(["auto", "off"]).default("auto"),
  /** Evaluations in a row whose sandbox process could not start before the worker pauses itself (sandbox-breaker.ts) */
  SANDBOX_FAULT_LIMIT: z.coerce.number().int().min(1).default(3),
  /** A paused worker's first check of its sandbox, this long after it paused; each next wait doubles, up to 60 s */
  SANDBOX_CHECK_DELAY_MS: z.coerce.number().int().positive().default(5_000),
  /**
   * BullMQ lock: a worker that stops renewing it (killed, frozen) loses its job after this long; the
   * stalled check then moves the job within STALLED_INTERVAL_MS. Together at most ~11 s, for the
   * goal of a dead worker's job moving within 15 s (docs/observability.md). Renewal happens every
   * LOCK_DURATION_MS / 2 from the worker's event loop, which a long evaluation does not block.
   */
  LOCK_DURATION_MS: z.coerce.number().int().positive().default(8_000),
  STALLED_INTERVAL_MS: z.coerce.number().int().positive().default(3_000),
  /** How long one attempt waits for a database, Redis or storage outage to end before it counts as failed */
  DEPENDENCY_WAIT_MS: z.coerce.number().int().min(0).default(300_000),
  /** Port of the worker's Prometheus /metrics; the health port (WORKER_HEALTH_PORT) serves it too */
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** Port of the health endpoint (health.ts) that the container's healthcheck calls; 0 = none */
  WORKER_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /**
   * On SIGTERM, how long to wait for the job in hand before handing it back to the queue and
   * exiting; keep it below the container's stop_grace_period (docker-compose.yml).
   */
  WORKER_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(110_000),
}).superRefine(checkModelStorageEnv);

export type WorkerEnv = z.infer<typeof envSchema>;

export function loadWorkerEnv(source: NodeJS.ProcessEnv = process.env): WorkerEnv {
  return envSchema.parse(source);
}

/**
 * How many sandbox processes the worker keeps warm (worker/src/sandbox/pool.ts): SANDBOX_SPARES, or
 * for `auto` one per core the worker may use (its container's CPU quota counted) beside an
 * evaluation's intra-op threads, at least one and at most two. Each holds ~50 MB of private memory
 * and the test inputs while it waits and costs ~140-150 ms of CPU to start (2-core machine; ~40 of
 * them onnxruntime's first session). A second one lets back-to-back evaluations skip waiting for
 * the next one's start, which pays only where a core of its own starts it meanwhile: on one core
 * the start and the evaluations share it (`npm run bench`, (b) and (d); docs/performance.md).
 * `auto` takes the cores it sees as the worker's own: workers sharing a host without CPU limits
 * should set 1.
 */
export function sandboxSpares(setting: WorkerEnv["SANDBOX_SPARES"], cores: number, intraOpThreads: number): number {
  if (setting !== "auto") return setting;
  return Math.min(2, Math.max(1, Math.floor(cores / Math.max(1, intraOpThreads))));
}
