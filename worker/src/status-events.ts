import { Queue } from "bullmq";
import type IORedis from "ioredis";
import type { Logger } from "@goat/contracts/logger";
import { encodeSubmissionEvent, submissionEventsChannel } from "@goat/contracts/submission-events";
import { addWebhookTrigger, WEBHOOK_QUEUE } from "@goat/contracts/webhook-jobs";
import type { Db } from "./db";

/**
 * Publishes a submission's current status on the Redis channel the web app turns into
 * server-sent events. Best effort: a lost event only delays a browser's update until its next
 * fetch; Postgres keeps the truth. A scored or failed submission also adds a webhook trigger
 * (contracts/src/webhook-jobs.ts); the web app delivers it, so no receiver can slow an evaluation.
 */
export type StatusPublisher = (submissionId: number) => Promise<void>;

export function createStatusPublisher(db: Db, redis: IORedis, queuePrefix: string, log: Logger): StatusPublisher {
  const channel = submissionEventsChannel(queuePrefix);
  const webhooks = new Queue(WEBHOOK_QUEUE, { connection: redis, prefix: queuePrefix });
  return async (submissionId) => {
    try {
      const row = await db.submission.findUnique({
        where: { id: submissionId },
        select: { status: true, teamId: true, finishedAt: true, task: { select: { slug: true } } },
      });
      if (!row) return;
      await redis.publish(
        channel,
        encodeSubmissionEvent({ submissionId, taskSlug: row.task.slug, teamId: row.teamId, status: row.status, at: new Date().toISOString() }),
      );
      if (row.status === "SCORED" || row.status === "FAILED") await addWebhookTrigger(webhooks, { trigger: "submission-finished", submissionId, finishedAt: row.finishedAt?.toISOString() });
    } catch (error) {
      log.warn({ submissionId, err: error }, `could not publish the status of submission ${submissionId}`);
    }
  };
}
