// One web replica's queue work, as instrumentation.ts starts it in each web process: the reconciler
// (here triggered only, no interval) and a submission-event subscriber standing for the server-sent
// event streams. Prints "REPLICA READY" once every replica listens, and one "EVENT <json>" line per
// event received; the reconciler's own log lines (pino JSON) say what it re-added.
// Run: node --conditions=react-server --import tsx tests/integration/support/web-replica.ts
// (The lost-worker sweep takes the same kind of lock; tests/integration/web-replicas.test.ts runs it
// twice at once in-process: its module imports the admin session code, which needs Next's runtime.)
import IORedis from "ioredis";
import { submissionEventsChannel } from "@goat/contracts/submission-events";
import { workerOnlineChannel } from "@goat/contracts/queue-signals";
import { env } from "@/lib/env";
import { subscribeSubmissionEvents } from "@/lib/events/submission-events";
import { startReconciler } from "@/lib/queue/reconciler";

const reconciler = startReconciler(0);
subscribeSubmissionEvents((event) => console.log(`EVENT ${JSON.stringify(event)}`));

const replicas = Number(process.env.REPLICAS ?? 1);
const probe = new IORedis(env().REDIS_URL);
for (;;) {
  const counts = (await probe.pubsub("NUMSUB", submissionEventsChannel(env().QUEUE_PREFIX), workerOnlineChannel(env().QUEUE_PREFIX))) as (string | number)[];
  if (Number(counts[1]) >= replicas && Number(counts[3]) >= replicas) break;
  await new Promise((resolve) => setTimeout(resolve, 50));
}
await probe.quit();
console.log("REPLICA READY");

process.on("SIGTERM", () => {
  reconciler.stop();
  process.exit(0);
});
