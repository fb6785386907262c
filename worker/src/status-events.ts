import { Queue } from "bullmq";
import IORedis from "ioredis";
import type { Logger } from "@goat/contracts/logger";
import { createStatusPublisher, type StatusPublisher } from "@goat/contracts/submission-status-publisher";
import { WEBHOOK_QUEUE } from "@goat/contracts/webhook-jobs";
import type { Db } from "./db";

/**
 * The worker's status events (contracts/src/submission-status-publisher.ts) and webhook triggers,
 * on a Redis connection of their own: BullMQ's connection runs blocking commands. Built here once
 * for the worker (consumer.ts) and for `npm run bench`, which measures an evaluation as the worker
 * runs it.
 */
export interface WorkerStatusEvents {
  publishStatus: StatusPublisher;
  /** the events' connection (the worker also announces itself on it) */
  publisher: IORedis;
  close(): Promise<void>;
}

export function workerStatusEvents(opts: { db: Db; redisUrl: string; queuePrefix: string; log: Pick<Logger, "warn"> }): WorkerStatusEvents {
  const publisher = new IORedis(opts.redisUrl, { maxRetriesPerRequest: 2 });
  publisher.on("error", (error) => opts.log.warn(`redis (events): ${error.message}`));
  const webhooks = new Queue(WEBHOOK_QUEUE, { connection: publisher, prefix: opts.queuePrefix });
  return {
    publishStatus: createStatusPublisher({ db: opts.db, redis: () => publisher, queuePrefix: opts.queuePrefix, log: opts.log, webhooks }),
    publisher,
    async close() {
      await webhooks.close().catch(() => {});
      await publisher.quit().catch(() => {});
    },
  };
}
