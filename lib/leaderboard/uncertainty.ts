/**
 * How sure a rank is (docs/ranking.md, "How sure is a rank"). Each result carries a 95% bootstrap
 * interval of its score, computed once by the worker (worker/src/metrics/bootstrap.ts). The teams
 * whose interval overlaps the leader's form the leader's "statistically tied" tier: on this test
 * set, their difference from the leader is within the noise of which rows happen to be in it.
 * Pure, so that the browser's live board (components/tasks/leaderboard-table.tsx) regroups its
 * rows by the same rule.
 */
export interface ScoreInterval {
  low: number;
  high: number;
}

/** Closed intervals: touching ends overlap. */
export function intervalsOverlap(a: ScoreInterval, b: ScoreInterval): boolean {
  return a.low <= b.high && b.low <= a.high;
}

/**
 * Marks the entries of a ranked board (best first) that are in the leader's tier: the leader
 * itself and every team whose interval overlaps the leader's. A board whose leader has no
 * interval (a result stored before intervals existed) has no tier; an entry without one is
 * never in it.
 */
export function markStatisticalTier<T extends { interval: ScoreInterval | null }>(ranked: readonly T[]): (T & { statisticallyTied: boolean })[] {
  const leader = ranked[0]?.interval ?? null;
  return ranked.map((entry) => ({
    ...entry,
    statisticallyTied: leader !== null && entry.interval !== null && intervalsOverlap(entry.interval, leader),
  }));
}

/** How many teams the leader's tier holds (0 when the board has none). */
export function statisticalTierSize(ranked: readonly { statisticallyTied: boolean }[]): number {
  return ranked.filter((entry) => entry.statisticallyTied).length;
}
