/**
 * The ranking rule, pure so that the browser's live leaderboard (components/tasks/leaderboard-table.tsx)
 * patches its rows with the same rule the server ranks them by: best score first in the task's
 * direction, then the earlier submission; equal scores share a rank ("1, 1, 3").
 *
 * Scores are compared at a stated precision (docs/ranking.md "Ties"): two scores are equal when
 * they agree once rounded to 9 decimal places, so 0.1 + 0.2 and 0.3 tie. Postgres chooses each
 * team's best with the same key (`leaderboard_score_key` in
 * contracts/prisma/migrations/20261129140000_final_submissions/migration.sql), computed with the same
 * double-precision operations, so both sides call the same scores equal.
 */
export interface RankableEntry {
  score: number;
  submittedAt: string;
  submissionId: number;
}

export const SCORE_DECIMALS = 9;
const SCALE = 10 ** SCORE_DECIMALS;

/** The value scores are compared by: the score rounded to SCORE_DECIMALS places, as an integer count. */
export function scoreKey(score: number): number {
  return Math.floor(score * SCALE + 0.5);
}

export function sameScore(a: number, b: number): boolean {
  return scoreKey(a) === scoreKey(b);
}

/** Ranks rows already sorted by `compareEntries`: equal scores share the rank of the first of them. */
export function assignRanks<T extends { score: number }>(sorted: T[]): (T & { rank: number })[] {
  let rank = 0;
  let previous: number | undefined;
  return sorted.map((entry, index) => {
    const key = scoreKey(entry.score);
    if (previous === undefined || key !== previous) rank = index + 1;
    previous = key;
    return { ...entry, rank };
  });
}

export function compareEntries(direction: "MAXIMIZE" | "MINIMIZE", a: RankableEntry, b: RankableEntry): number {
  const keyA = scoreKey(a.score);
  const keyB = scoreKey(b.score);
  if (keyA !== keyB) return direction === "MAXIMIZE" ? keyB - keyA : keyA - keyB;
  if (a.submittedAt !== b.submittedAt) return a.submittedAt < b.submittedAt ? -1 : 1;
  return a.submissionId - b.submissionId;
}

/** Sorts and ranks a board's rows (one per team) by the ranking rule. */
export function rankEntries<T extends RankableEntry>(direction: "MAXIMIZE" | "MINIMIZE", rows: T[]): (T & { rank: number })[] {
  return assignRanks([...rows].sort((a, b) => compareEntries(direction, a, b)));
}

/**
 * A page of ranked rows after one team's row changed. On the first page of the whole board the row
 * moves to its place and ranks are recomputed (the page starts at rank 1); elsewhere (a later page,
 * a search) the row is replaced where it is, with the rank the server computed.
 */
export function patchRankedRows<T extends RankableEntry & { teamId: number; rank: number }>(
  rows: T[],
  changed: T,
  options: { direction: "MAXIMIZE" | "MINIMIZE"; topOfBoard: boolean; pageSize: number },
): T[] {
  if (!options.topOfBoard) return rows.map((row) => (row.teamId === changed.teamId ? changed : row));
  const others = rows.filter((row) => row.teamId !== changed.teamId);
  // A row that falls below the page's last one belongs to a later page.
  return rankEntries(options.direction, [...others, changed]).slice(0, options.pageSize);
}
