import "server-only";
import IORedis from "ioredis";
import { z } from "zod";
import { env } from "../env";

/**
 * "The organisers posted (or withdrew) an announcement", over Redis pub/sub so every web process
 * hears it and pushes it to its open task pages. Events carry ids only; pages read the text from
 * Postgres through the JSON route.
 */
const announcementEventSchema = z.object({
  announcementId: z.number().int().positive(),
  /** null: event-wide, for every task page */
  taskSlug: z.string().nullable(),
  change: z.enum(["posted", "withdrawn"]),
  at: z.string(),
});
export type AnnouncementEvent = z.infer<typeof announcementEventSchema>;
type Listener = (event: AnnouncementEvent) => void;

function channel(): string {
  return `${env().QUEUE_PREFIX}:announcement-events`;
}

const globalForAnnouncements = globalThis as unknown as {
  goatAnnouncementPublisher?: IORedis;
  goatAnnouncementSubscriber?: { redis: IORedis; listeners: Set<Listener> };
};

/** Best effort: a page that misses the event shows the announcement on its next load. */
export async function publishAnnouncementEvent(event: Omit<AnnouncementEvent, "at">): Promise<void> {
  try {
    globalForAnnouncements.goatAnnouncementPublisher ??= new IORedis(env().REDIS_URL, { maxRetriesPerRequest: 2 });
    await globalForAnnouncements.goatAnnouncementPublisher.publish(channel(), JSON.stringify({ ...event, at: new Date().toISOString() }));
  } catch (error) {
    console.warn(`[events] could not publish announcement ${event.announcementId}: ${(error as Error).message}`);
  }
}

/** Calls `listener` for every announcement event until the returned function is called. */
export function subscribeAnnouncementEvents(listener: Listener): () => void {
  if (!globalForAnnouncements.goatAnnouncementSubscriber) {
    const redis = new IORedis(env().REDIS_URL, { maxRetriesPerRequest: null });
    const listeners = new Set<Listener>();
    redis.on("error", (error) => console.warn(`[events] redis: ${error.message}`));
    redis.on("message", (_channel, message) => {
      let parsed: ReturnType<typeof announcementEventSchema.safeParse>;
      try {
        parsed = announcementEventSchema.safeParse(JSON.parse(message));
      } catch {
        return;
      }
      if (parsed.success) for (const each of listeners) each(parsed.data);
    });
    void redis.subscribe(channel());
    globalForAnnouncements.goatAnnouncementSubscriber = { redis, listeners };
  }
  const { listeners } = globalForAnnouncements.goatAnnouncementSubscriber;
  listeners.add(listener);
  return () => listeners.delete(listener);
}
