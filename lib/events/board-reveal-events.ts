import "server-only";
import { z } from "zod";
import { pubSubChannel } from "./pubsub-channel";

/**
 * "The organisers revealed (or hid) a task's private board", over Redis pub/sub: one publish, and
 * each web process forgets the task's cached boards and tells its open leaderboard streams
 * (lib/events/leaderboard-stream.ts), so open pages switch without a reload.
 */
const boardRevealEventSchema = z.object({
  taskSlug: z.string(),
  revealed: z.boolean(),
  at: z.string(),
});
export type BoardRevealEvent = z.infer<typeof boardRevealEventSchema>;

const reveals = pubSubChannel("board-reveal-events", boardRevealEventSchema);

/** Best effort: a page that misses it shows the change on its next load (the cache holds a board at most 10 s). */
export const publishBoardReveal = (event: Omit<BoardRevealEvent, "at">) => reveals.publish(event);
export const subscribeBoardReveals = (listener: (event: BoardRevealEvent) => void) => reveals.subscribe(listener);
