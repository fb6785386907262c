/**
 * The ranking rule, pure so that the browser's live leaderboard (components/tasks/leaderboard-table.tsx)
 * patches its rows with the same rule the server ranks them by: best score first in the task's
 * direction, then the earlier submission; equal scores share a rank ("1, 2, 2, 4").
 */
export interface RankableEntry {
  score: number;
  submittedAt: string;
  submissionId: number;
}

export function assignRanks<T extends { score: number }>(sorted: T[]): (T & { rank: number })[] {
  let rank = 0;
  let previous: number | undefined;
  return sorted.map((entry, index) => {
    if (previous === undefined || entry.score !== previous) rank = index + 1;
    previous = entry.score;
    return { ...entry, rank };
  });
}

export function compareEntries(direction: "MAXIMIZE" | "MINIMIZE", a: RankableEntry, b: RankableEntry): number {
  if (a.score !== b.score) return direction === "MAXIMIZE" ? b.score - a.score : a.score - b.score;
  if (a.submittedAt !== b.submittedAt) return a.submittedAt < b.submittedAt ? -1 : 1;
  return a.submissionId - b.submissionId;
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
  const merged = [...others, changed].sort((a, b) => compareEntries(options.direction, a, b));
  // A row that falls below the page's last one belongs to a later page.
  return assignRanks(merged.slice(0, options.pageSize));
}
