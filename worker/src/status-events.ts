import type IORedis from "ioredis";
import type { Logger } from "@goat/contracts/logger";
import { encodeSubmissionEvent, submissionEventsChannel } from "@goat/contracts/submission-events";
import type { Db } from "./db";

/**
 * Publishes a submission's current status on the Redis channel the web app turns into
 * server-sent events. Best effort: a lost event only delays a browser's update until its next
 * fetch; Postgres keeps the truth.
 */
export type StatusPublisher = (submissionId: number) => Promise<void>;

export function createStatusPublisher(db: Db, redis: IORedis, queuePrefix: string, log: Logger): StatusPublisher {
  const channel = submissionEventsChannel(queuePrefix);
  return async (submissionId) => {
    try {
      const row = await db.submission.findUnique({
        where: { id: submissionId },
        select: { status: true, teamId: true, task: { select: { slug: true } } },
      });
      if (!row) return;
      await redis.publish(
        channel,
        encodeSubmissionEvent({ submissionId, taskSlug: row.task.slug, teamId: row.teamId, status: row.status, at: new Date().toISOString() }),
      );
    } catch (error) {
      log.warn({ submissionId, err: error }, `could not publish the status of submission ${submissionId}`);
    }
  };
}
