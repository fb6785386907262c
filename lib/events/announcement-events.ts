import "server-only";
import { z } from "zod";
import { pubSubChannel } from "./pubsub-channel";

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

const announcements = pubSubChannel("announcement-events", announcementEventSchema);

/** Best effort: a page that misses the event shows the announcement on its next load. */
export const publishAnnouncementEvent = (event: Omit<AnnouncementEvent, "at">) => announcements.publish(event);

/** Calls `listener` for every announcement event until the returned function is called. */
export const subscribeAnnouncementEvents = (listener: (event: AnnouncementEvent) => void) => announcements.subscribe(listener);
