// The evaluation worker process: `npm run worker` (one per GPU slice).
import { loadWorkerEnv } from "./env";
import { startEvaluationWorker } from "./consumer";
import { startHealthServer } from "./health";
import { workerMetrics } from "./observability";

const env = loadWorkerEnv();
const running = await startEvaluationWorker(env);
const { log } = running;

let stopping = false;
const { registry } = workerMetrics();
const serve = (port: number) =>
  startHealthServer({
    port,
    workerId: env.WORKER_ID,
    checkConnections: running.checkConnections,
    isShuttingDown: () => stopping,
    sandboxPauseReason: running.sandboxPauseReason,
    metrics: registry,
  });
const health = env.WORKER_HEALTH_PORT > 0 ? await serve(env.WORKER_HEALTH_PORT) : undefined;
if (health) log.info(`health and metrics: http://0.0.0.0:${health.port}/health, /metrics`);
// A metrics port of its own, where the health port is not published to Prometheus.
const metricsServer = env.WORKER_METRICS_PORT > 0 && env.WORKER_METRICS_PORT !== env.WORKER_HEALTH_PORT ? await serve(env.WORKER_METRICS_PORT) : undefined;
if (metricsServer) log.info(`metrics: http://0.0.0.0:${metricsServer.port}/metrics`);

/**
 * Shutdown (SIGTERM from `docker compose stop`/`down`, SIGINT from Ctrl-C): take no more jobs and
 * finish the one in hand. Docker sends SIGKILL after the service's stop_grace_period; before that
 * (WORKER_SHUTDOWN_TIMEOUT_MS, set a little shorter in docker-compose.yml) the job still in hand is
 * put back in the queue for another worker and the process exits. Were it killed anyway, the job's
 * BullMQ lock would expire after LOCK_DURATION_MS and another worker would take it then.
 */
async function shutdown(signal: string): Promise<number> {
  log.info(`${signal}: finishing the current job (at most ${env.WORKER_SHUTDOWN_TIMEOUT_MS} ms), then exiting`);
  let timer: NodeJS.Timeout | undefined;
  const outOfTime = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), env.WORKER_SHUTDOWN_TIMEOUT_MS);
  });
  const closed = running.close().then(() => "closed" as const);
  const first = await Promise.race([closed, outOfTime]);
  clearTimeout(timer);
  await health?.close();
  await metricsServer?.close();
  if (first === "closed") return 0;
  const handedBack = await running.handBack().catch((error: Error) => {
    log.error({ err: error }, "could not hand the job back (its lock will expire instead)");
    return null;
  });
  log.info(`out of time: ${handedBack ? `job ${handedBack} handed back` : "no job in hand"}; exiting`);
  return 0;
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    shutdown(signal).then(
      (code) => process.exit(code),
      (error) => {
        log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  });
}
