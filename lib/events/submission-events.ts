import "server-only";
import IORedis from "ioredis";
import { decodeSubmissionEvent, submissionEventsChannel, type SubmissionEvent } from "@goat/contracts/submission-events";
import { createStatusPublisher, type StatusPublisher } from "@goat/contracts/submission-status-publisher";
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

let publishStatus: StatusPublisher | undefined;

/** Publishes the submission's current status (best effort: Postgres keeps the truth). */
export function publishSubmissionStatus(submissionId: number): Promise<void> {
  publishStatus ??= createStatusPublisher({ db, redis: publisher, queuePrefix: env().QUEUE_PREFIX, log });
  return publishStatus(submissionId);
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
