import type IORedis from "ioredis";
import type { Db, SubmissionStatus } from "./db";
import type { Logger } from "./logger";
import { encodeSubmissionEvent, submissionEventsChannel } from "./submission-events";
import { addWebhookTrigger, type TriggerQueue } from "./webhook-jobs";

/**
 * Publishes a submission's current status on the Redis channel the web app turns into
 * server-sent events, for whoever changed it (the worker when it claims, scores or fails one; the
 * web app when it accepts, cancels or retries one). Best effort: a lost event only delays a
 * browser's update until its next fetch; Postgres keeps the truth. With `webhooks` (the worker), a
 * scored or failed submission also adds a webhook trigger (webhook-jobs.ts); the web app delivers
 * it, so no receiver can slow an evaluation.
 */
export type StatusPublisher = (submissionId: number) => Promise<void>;

export interface StatusPublisherDeps {
  db: Db;
  /** the connection events go out on (called at each publish, so the web app's lazy one works) */
  redis: () => IORedis;
  queuePrefix: string;
  log: Pick<Logger, "warn">;
  webhooks?: TriggerQueue;
}

export function createStatusPublisher({ db, redis, queuePrefix, log, webhooks }: StatusPublisherDeps): StatusPublisher {
  const channel = submissionEventsChannel(queuePrefix);
  return async (submissionId) => {
    try {
      // One statement (a relation read through the client is two round trips and ~3x the CPU): the
      // worker publishes twice per evaluation, so this read is on every evaluation's path.
      const [row] = await db.$queryRaw<{ status: SubmissionStatus; teamId: number; finishedAt: Date | null; taskSlug: string }[]>`
        SELECT s.status::text AS status, s.team_id AS "teamId", s.finished_at AS "finishedAt", t.slug AS "taskSlug"
        FROM submissions AS s JOIN tasks AS t ON t.id = s.task_id WHERE s.id = ${submissionId}`;
      if (!row) return;
      await redis().publish(
        channel,
        encodeSubmissionEvent({ submissionId, taskSlug: row.taskSlug, teamId: row.teamId, status: row.status, at: new Date().toISOString() }),
      );
      if (webhooks && (row.status === "SCORED" || row.status === "FAILED")) {
        await addWebhookTrigger(webhooks, { trigger: "submission-finished", submissionId, finishedAt: row.finishedAt?.toISOString() });
      }
    } catch (error) {
      log.warn({ submissionId, err: error }, `could not publish the status of submission ${submissionId}`);
    }
  };
}
