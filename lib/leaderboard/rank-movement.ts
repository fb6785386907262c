/**
 * How far a team moved between two rankings: since the start of the UTC day on the public board,
 * and from the public to the private board on reveal (the shake-up). Pure, so the server and the
 * live table in the browser agree (docs/ranking.md, "Rank changes and the shake-up").
 */
export type RankMove = { kind: "up" | "down"; places: number } | { kind: "same" } | { kind: "new" };

/** `before` undefined: the team was not on the earlier ranking. Rank 1 is the top, so a smaller number is up. */
export function rankMove(now: number, before: number | undefined): RankMove {
  if (before === undefined) return { kind: "new" };
  if (before === now) return { kind: "same" };
  return before > now ? { kind: "up", places: before - now } : { kind: "down", places: now - before };
}

const places = (count: number) => `${count} ${count === 1 ? "place" : "places"}`;

/** In words, for screen readers and tooltips: "up 3 places since the start of the day". */
export function describeMove(move: RankMove, since: string): string {
  switch (move.kind) {
    case "up":
      return `up ${places(move.places)} ${since}`;
    case "down":
      return `down ${places(move.places)} ${since}`;
    case "same":
      return `unchanged ${since}`;
    case "new":
      return `new ${since}`;
  }
}

export interface ShakeUpRow {
  team: string;
  /** the private rank */
  rank: number;
  /** the rank the team had on the public board (undefined: not on it) */
  publicRank?: number;
}

export interface ShakeUp {
  /** how many places at the top are compared (fewer when fewer teams ranked) */
  top: number;
  topChanged: boolean;
  /** the largest move either way between the boards (null: nobody moved) */
  largest: { team: string; move: { kind: "up" | "down"; places: number } } | null;
  /** one line: "The top 3 changed; largest move: Team X up 12 places." */
  text: string;
}

/**
 * The shake-up of a revealed private board. "The top N changed" when the teams in the top N of
 * the private board, in order, are not those of the public board. The largest move is the largest
 * number of places between a team's public and private rank (ties: the better private rank).
 */
export function shakeUp(rows: readonly ShakeUpRow[], topN = 3): ShakeUp {
  const top = Math.min(topN, rows.length);
  const byPrivate = [...rows].sort((a, b) => a.rank - b.rank);
  const byPublic = rows.filter((row) => row.publicRank !== undefined).sort((a, b) => a.publicRank! - b.publicRank!);
  const topChanged = byPrivate.slice(0, top).some((row, index) => byPublic[index]?.team !== row.team);
  let largest: ShakeUp["largest"] = null;
  for (const row of byPrivate) {
    const move = rankMove(row.rank, row.publicRank);
    if ((move.kind === "up" || move.kind === "down") && move.places > (largest?.move.places ?? 0)) largest = { team: row.team, move };
  }
  const head = top === 0 ? "No team is ranked yet" : `The top ${top} ${topChanged ? "changed" : "held"}`;
  const tail = largest ? `largest move: ${largest.team} ${largest.move.kind} ${places(largest.move.places)}` : "no team moved";
  return { top, topChanged, largest, text: `${head}; ${tail}.` };
}
