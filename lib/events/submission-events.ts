import "server-only";
import IORedis from "ioredis";
import {
  decodeSubmissionEvent,
  encodeSubmissionEvent,
  submissionEventsChannel,
  type SubmissionEvent,
} from "@goat/contracts/submission-events";
import { db } from "../db";
import { env } from "../env";
import { log } from "../log";

/**
 * Submission status changes over Redis pub/sub: published by the web app (accepted, cancelled,
 * retried) and the worker (running, scored, failed); one subscriber connection per web process
 * fans them out to the open server-sent-event streams.
 */
type Listener = (event: SubmissionEvent) => void;

const globalForEvents = globalThis as unknown as {
  goatEventPublisher?: IORedis;
  goatEventSubscriber?: { redis: IORedis; listeners: Set<Listener> };
};

function publisher(): IORedis {
  if (!globalForEvents.goatEventPublisher) {
    const redis = new IORedis(env().REDIS_URL, { maxRetriesPerRequest: 2 });
    // Without a listener an 'error' (Redis restarting) is reported as unhandled.
    redis.on("error", (error) => log.warn(`events redis (publisher): ${error.message}`));
    globalForEvents.goatEventPublisher = redis;
  }
  return globalForEvents.goatEventPublisher;
}

/** Publishes the submission's current status (best effort: Postgres keeps the truth). */
export async function publishSubmissionStatus(submissionId: number): Promise<void> {
  try {
    const row = await db.submission.findUnique({
      where: { id: submissionId },
      select: { status: true, teamId: true, task: { select: { slug: true } } },
    });
    if (!row) return;
    const event: SubmissionEvent = { submissionId, taskSlug: row.task.slug, teamId: row.teamId, status: row.status, at: new Date().toISOString() };
    await publisher().publish(submissionEventsChannel(env().QUEUE_PREFIX), encodeSubmissionEvent(event));
  } catch (error) {
    log.warn({ submissionId, err: error }, `could not publish the status of submission ${submissionId}`);
  }
}

/** Calls `listener` for every submission event until the returned function is called. */
export function subscribeSubmissionEvents(listener: Listener): () => void {
  if (!globalForEvents.goatEventSubscriber) {
    const redis = new IORedis(env().REDIS_URL, { maxRetriesPerRequest: null });
    const listeners = new Set<Listener>();
    redis.on("error", (error) => log.warn(`events redis (subscriber): ${error.message}`));
    redis.on("message", (_channel, message) => {
      const event = decodeSubmissionEvent(message);
      if (event) for (const each of listeners) each(event);
    });
    void redis.subscribe(submissionEventsChannel(env().QUEUE_PREFIX));
    globalForEvents.goatEventSubscriber = { redis, listeners };
  }
  const { listeners } = globalForEvents.goatEventSubscriber;
  listeners.add(listener);
  return () => listeners.delete(listener);
}
