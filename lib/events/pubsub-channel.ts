import "server-only";
import IORedis from "ioredis";
import type { z } from "zod";
import { env } from "../env";

/**
 * A small Redis pub/sub channel of JSON events checked by a zod schema (announcements, reveals of
 * a private board): one publisher and one subscriber connection per web process and channel, the
 * subscriber fanning each event out to the process's listeners. Publishing is best effort: Postgres
 * keeps the truth, and a page that misses an event shows the change on its next load.
 */
type Listener<T> = (event: T) => void;

const globalForChannels = globalThis as unknown as {
  goatPubSubChannels?: Map<string, { publisher?: IORedis; subscriber?: IORedis; listeners: Set<Listener<unknown>> }>;
};

export interface PubSubChannel<T> {
  publish(event: Omit<T, "at">): Promise<void>;
  /** Calls `listener` for every event until the returned function is called. */
  subscribe(listener: Listener<T>): () => void;
}

/** `name` is the channel's name under the deployment's QUEUE_PREFIX; events get an `at` when published. */
export function pubSubChannel<T extends { at: string }>(name: string, schema: z.ZodType<T>): PubSubChannel<T> {
  const channel = () => `${env().QUEUE_PREFIX}:${name}`;
  const state = () => {
    globalForChannels.goatPubSubChannels ??= new Map();
    let current = globalForChannels.goatPubSubChannels.get(name);
    if (!current) globalForChannels.goatPubSubChannels.set(name, (current = { listeners: new Set() }));
    return current as { publisher?: IORedis; subscriber?: IORedis; listeners: Set<Listener<T>> };
  };
  return {
    async publish(event) {
      try {
        const current = state();
        current.publisher ??= new IORedis(env().REDIS_URL, { maxRetriesPerRequest: 2 });
        await current.publisher.publish(channel(), JSON.stringify({ ...event, at: new Date().toISOString() }));
      } catch (error) {
        console.warn(`[events] could not publish on ${name}: ${(error as Error).message}`);
      }
    },
    subscribe(listener) {
      const current = state();
      if (!current.subscriber) {
        const redis = new IORedis(env().REDIS_URL, { maxRetriesPerRequest: null });
        redis.on("error", (error) => console.warn(`[events] redis (${name}): ${error.message}`));
        redis.on("message", (_channel, message) => {
          let parsed: ReturnType<typeof schema.safeParse>;
          try {
            parsed = schema.safeParse(JSON.parse(message));
          } catch {
            return;
          }
          if (parsed.success) for (const each of current.listeners) each(parsed.data);
        });
        void redis.subscribe(channel());
        current.subscriber = redis;
      }
      current.listeners.add(listener);
      return () => current.listeners.delete(listener);
    },
  };
}
