// The evaluation worker process: `npm run worker` (one per GPU slice).
import { loadWorkerEnv } from "./env";
import { startEvaluationWorker } from "./consumer";

const env = loadWorkerEnv();
const running = await startEvaluationWorker(env);

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(`[worker ${env.WORKER_ID}] ${signal}: finishing the current job, then exiting`);
    running.close().then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
