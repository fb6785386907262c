import "server-only";
import { dayStartRanks } from "./day-start";
import { leaderboardSnapshot, type BoardSnapshot, type LeaderboardPage } from "./cache";
import { referenceRowFor } from "./reference";
import { shakeUp, type ShakeUp } from "./rank-movement";
import { teamsAboveReference, type ReferenceRow } from "./reference-rows";
import { scoreHistogram, type ScoreBin } from "./score-histogram";

/**
 * What the leaderboard page shows around the table (docs/ranking.md, "Rank changes and the
 * shake-up"): the moves since the start of the UTC day, the shake-up of a revealed private board,
 * the reference row and the distribution of best public scores. Everything comes from the cached
 * board snapshots (lib/leaderboard/cache.ts) and what is derived from a snapshot is remembered
 * with it, so a page view adds no database read beyond the first of each board version.
 */
export interface BoardExtras {
  /** public board: team id -> rank at 00:00 UTC (absent: not on the board then) */
  dayStartRanks?: Record<number, number>;
  /** private board: the one-line shake-up */
  shakeUp?: ShakeUp;
  /** the reference row, when the task shows it and it falls on this page */
  reference: ReferenceRow | null;
  /** this page holds the board's last rows */
  endsBoard: boolean;
  /** the teams' best public scores, binned (the reader's team's bin is marked in the browser: markOwnBin) */
  histogram: ScoreBin[];
}

const shakeUps = new WeakMap<BoardSnapshot, ShakeUp>();
const publicScores = new WeakMap<BoardSnapshot, number[]>();

function remembered<T>(memo: WeakMap<BoardSnapshot, T>, snapshot: BoardSnapshot, compute: () => T): T {
  if (!memo.has(snapshot)) memo.set(snapshot, compute());
  return memo.get(snapshot)!;
}

export async function boardExtras(snapshot: BoardSnapshot, page: LeaderboardPage, now = new Date()): Promise<BoardExtras> {
  const { leaderboard } = snapshot;
  const isPrivate = leaderboard.board === "private";
  const publicBoard = isPrivate ? await leaderboardSnapshot(leaderboard.task, "public", leaderboard.revealed) : snapshot;
  const from = (page.page - 1) * page.pageSize;
  const endsBoard = from + page.entries.length >= page.totalEntries;

  // The reference goes on the page whose rows surround its place on the whole board; not in a search.
  let reference = page.search ? null : await referenceRowFor(snapshot);
  if (reference) {
    const above = teamsAboveReference(leaderboard.entries.map((entry) => entry.score), reference, leaderboard.direction);
    if (!(above >= from && (above < from + page.pageSize || endsBoard))) reference = null;
  }

  const scores = remembered(publicScores, publicBoard, () => publicBoard.leaderboard.entries.map((entry) => entry.score));
  const extras: BoardExtras = { reference, endsBoard, histogram: scoreHistogram(scores) };

  if (isPrivate) {
    extras.shakeUp = remembered(shakeUps, snapshot, () => shakeUp(leaderboard.entries));
  } else {
    // Every team's: a live patch may bring any team onto the page (a few bytes per team).
    extras.dayStartRanks = Object.fromEntries(await dayStartRanks(leaderboard.task, now));
  }
  return extras;
}
