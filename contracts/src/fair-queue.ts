/**
 * The fair scheduling rule, shared by the producer (the priority a job is added with), the position
 * and ETA answers (the order the scheduler serves) and the worker (the per-team limit). docs/queue.md.
 *
 * BullMQ serves the job with the lowest priority number first, and jobs of equal priority in the
 * order they were added (https://docs.bullmq.io/guide/jobs/prioritized). A submission is added with
 * priority = its rank among its team's waiting and running submissions of the same lane when it is
 * queued: every team's 1st waiting submission is served before any team's 2nd, so a team that
 * uploads twenty models at once waits behind everyone else's first ones (round-robin). Re-scores and
 * organisers' reference models use the background lane, offset far behind every fresh submission.
 * The priority is stored on the submission (Postgres is the source of truth), so a job re-added
 * after a Redis loss gets the same place.
 */

/** BullMQ's largest priority (2^21). */
export const MAX_PRIORITY = 2_097_152;
/** Background lane (re-scores, reference models): behind a million fresh submissions of one team. */
export const BACKGROUND_LANE_OFFSET = 1_000_000;
/** Default of Task.maxRunningPerTeam. */
export const DEFAULT_MAX_RUNNING_PER_TEAM = 2;
/** A job whose team is at its limit goes back to the queue for this long (BullMQ delayed job), then competes again. */
export const TEAM_LIMIT_DEFER_MS = 400;

export function schedulingPriority(teamRank: number, background: boolean): number {
  const rank = Math.min(Math.max(1, Math.floor(teamRank)), BACKGROUND_LANE_OFFSET - 1);
  return (background ? BACKGROUND_LANE_OFFSET : 0) + rank;
}

export interface QueuedForOrder {
  id: number;
  queuePriority: number;
  queuedAt: Date;
}

/**
 * The order in which waiting submissions are served: priority, then the time they were queued (the
 * order BullMQ added them), then id. Returns a new array.
 */
export function serviceOrder<T extends QueuedForOrder>(waiting: readonly T[]): T[] {
  return [...waiting].sort((a, b) => a.queuePriority - b.queuePriority || a.queuedAt.getTime() - b.queuedAt.getTime() || a.id - b.id);
}
