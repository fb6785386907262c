import "server-only";
import { Queue } from "bullmq";
import IORedis from "ioredis";
import { addWebhookTrigger, WEBHOOK_JOB_NAMES, WEBHOOK_QUEUE, type WebhookTrigger } from "@goat/contracts/webhook-jobs";
import { env } from "../env";

/** The web app's producer of webhook jobs (contracts/src/webhook-jobs.ts). */
const globalForWebhooks = globalThis as unknown as { goatWebhookQueue?: Queue; goatWebhookRedis?: IORedis };

/** The producer's Redis connection, also used for the webhooks' own small keys (prefixed like the queue). */
export function webhookRedis(): IORedis {
  if (!globalForWebhooks.goatWebhookRedis) {
    const connection = new IORedis(env().REDIS_URL, { maxRetriesPerRequest: null });
    connection.on("error", (error) => console.warn(`[webhooks] redis: ${error.message}`));
    globalForWebhooks.goatWebhookRedis = connection;
  }
  return globalForWebhooks.goatWebhookRedis;
}

export function webhookQueue(): Queue {
  globalForWebhooks.goatWebhookQueue ??= new Queue(WEBHOOK_QUEUE, { connection: webhookRedis(), prefix: env().QUEUE_PREFIX });
  return globalForWebhooks.goatWebhookQueue;
}

/** Tells the webhooks that something happened; never throws (a notification must not fail an action). */
export async function notifyWebhooks(trigger: WebhookTrigger): Promise<void> {
  await addWebhookTrigger(webhookQueue(), trigger);
}

export async function enqueueDelivery(deliveryId: number): Promise<void> {
  await webhookQueue().add(
    WEBHOOK_JOB_NAMES.deliver,
    { deliveryId },
    {
      jobId: `delivery-${deliveryId}`,
      attempts: env().WEBHOOK_ATTEMPTS,
      backoff: { type: "exponential", delay: env().WEBHOOK_BACKOFF_MS },
      removeOnComplete: { age: 24 * 3600, count: 5_000 },
      removeOnFail: { age: 7 * 24 * 3600, count: 5_000 },
    },
  );
}
