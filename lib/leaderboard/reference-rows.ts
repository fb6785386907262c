/**
 * The organisers' reference model as a row of a board (docs/ranking.md, "Rank changes and the
 * shake-up"): never ranked, never a team, placed where its score falls. Pure, so the live table
 * places it again after every patch.
 */
export interface ReferenceRow {
  /** "Reference: baseline" */
  label: string;
  score: number;
  submissionId: number;
}

export type PlacedRow<T> = { kind: "team"; entry: T } | { kind: "reference"; reference: ReferenceRow };

/** Whether `score` is strictly better than `than` in the task's direction. */
const better = (score: number, than: number, direction: "MAXIMIZE" | "MINIMIZE") => (direction === "MAXIMIZE" ? score > than : score < than);

/**
 * How many ranked teams stand above the reference: every team with a better or equal score (a
 * team that ties the reference is listed before it).
 */
export function teamsAboveReference(scores: readonly number[], reference: ReferenceRow, direction: "MAXIMIZE" | "MINIMIZE"): number {
  return scores.filter((score) => !better(reference.score, score, direction)).length;
}

/**
 * The page's rows with the reference inserted before the first team it beats. `endsBoard`: this
 * page holds the board's last rows, so a reference below every row goes at its end; on any other
 * page it belongs to a later page and is left out.
 */
export function placeReferenceRow<T extends { score: number }>(
  rows: readonly T[],
  reference: ReferenceRow | null,
  direction: "MAXIMIZE" | "MINIMIZE",
  endsBoard: boolean,
): PlacedRow<T>[] {
  const placed: PlacedRow<T>[] = rows.map((entry) => ({ kind: "team", entry }));
  if (!reference) return placed;
  const at = rows.findIndex((row) => better(reference.score, row.score, direction));
  if (at === -1) return endsBoard ? [...placed, { kind: "reference", reference }] : placed;
  placed.splice(at, 0, { kind: "reference", reference });
  return placed;
}
