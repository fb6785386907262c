import "server-only";
// The one BullMQ Worker of the web app, allowed by eslint.config.mjs for this file only: webhook
// deliveries are network I/O, not evaluation work, and they need the internet, which the
// evaluation workers' network does not reach (docker-compose.yml: workers sit on the internal
// "backend" network only). The web app is on "edge", so it delivers.
import { UnrecoverableError, Worker } from "bullmq";
import IORedis from "ioredis";
import { WEBHOOK_JOB_NAMES, WEBHOOK_QUEUE, webhookDeliveryJobSchema, type WebhookTrigger } from "@goat/contracts/webhook-jobs";
import { env } from "../env";
import { attemptDelivery } from "./deliver";
import { fanOutTrigger } from "./fan-out";

const globalForConsumer = globalThis as unknown as { goatWebhookWorker?: Worker };

export function startWebhookConsumer(): Worker {
  if (globalForConsumer.goatWebhookWorker) return globalForConsumer.goatWebhookWorker;
  const connection = new IORedis(env().REDIS_URL, { maxRetriesPerRequest: null });
  const worker = new Worker(
    WEBHOOK_QUEUE,
    async (job) => {
      if (job.name === WEBHOOK_JOB_NAMES.trigger) return { deliveries: await fanOutTrigger(job.data as WebhookTrigger) };
      const { deliveryId } = webhookDeliveryJobSchema.parse(job.data);
      const isLastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const outcome = await attemptDelivery(deliveryId, isLastAttempt);
      if (outcome === "retry") throw new Error(`delivery ${deliveryId}: the receiver did not accept it; retrying`);
      if (outcome === "failed" && !isLastAttempt) throw new UnrecoverableError(`delivery ${deliveryId} failed for good`);
      return { outcome };
    },
    { connection, prefix: env().QUEUE_PREFIX, concurrency: 4 },
  );
  worker.on("error", (error) => console.warn(`[webhooks] ${error.message}`));
  worker.on("failed", (job, error) => {
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) console.warn(`[webhooks] job ${job.id} failed: ${error.message}`);
  });
  globalForConsumer.goatWebhookWorker = worker;
  return worker;
}

export async function stopWebhookConsumer(): Promise<void> {
  await globalForConsumer.goatWebhookWorker?.close();
  globalForConsumer.goatWebhookWorker = undefined;
}
