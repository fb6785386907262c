// The evaluation worker process: `npm run worker` (one per GPU slice).
import { loadWorkerEnv } from "./env";
import { startEvaluationWorker } from "./consumer";
import { startHealthServer } from "./health";

const env = loadWorkerEnv();
const running = await startEvaluationWorker(env);

let stopping = false;
const health =
  env.WORKER_HEALTH_PORT > 0
    ? await startHealthServer({
        port: env.WORKER_HEALTH_PORT,
        workerId: env.WORKER_ID,
        checkConnections: running.checkConnections,
        isShuttingDown: () => stopping,
      })
    : undefined;
if (health) console.log(`[worker ${env.WORKER_ID}] health: http://0.0.0.0:${health.port}/health`);

/**
 * Shutdown (SIGTERM from `docker compose stop`/`down`, SIGINT from Ctrl-C): take no more jobs and
 * finish the one in hand. Docker sends SIGKILL after the service's stop_grace_period; before that
 * (WORKER_SHUTDOWN_TIMEOUT_MS, set a little shorter in docker-compose.yml) the job still in hand is
 * put back in the queue for another worker and the process exits. Were it killed anyway, the job's
 * BullMQ lock would expire after LOCK_DURATION_MS and another worker would take it then.
 */
async function shutdown(signal: string): Promise<number> {
  console.log(`[worker ${env.WORKER_ID}] ${signal}: finishing the current job (at most ${env.WORKER_SHUTDOWN_TIMEOUT_MS} ms), then exiting`);
  let timer: NodeJS.Timeout | undefined;
  const outOfTime = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), env.WORKER_SHUTDOWN_TIMEOUT_MS);
  });
  const closed = running.close().then(() => "closed" as const);
  const first = await Promise.race([closed, outOfTime]);
  clearTimeout(timer);
  await health?.close();
  if (first === "closed") return 0;
  const handedBack = await running.handBack().catch((error: Error) => {
    console.error(`[worker ${env.WORKER_ID}] could not hand the job back (its lock will expire instead): ${error.message}`);
    return null;
  });
  console.log(`[worker ${env.WORKER_ID}] out of time: ${handedBack ? `job ${handedBack} handed back` : "no job in hand"}; exiting`);
  return 0;
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    shutdown(signal).then(
      (code) => process.exit(code),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
