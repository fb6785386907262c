import "server-only";
import { db } from "../db";
import { rankEntries } from "./ranking";
import { markStatisticalTier, statisticalTierSize, type ScoreInterval } from "./uncertainty";
import { requireTask } from "../tasks/lookup";

/**
 * The leaderboards of a task (the rules in words: docs/ranking.md). Each team is represented by
 * its best scored submission: on the public board among all its submissions, on the private board
 * among its final submissions (those it selected, or by default its K best public ones). Scores
 * are compared rounded to 9 decimal places; ties between a team's own submissions go to the
 * earliest. Equal scores share a rank ("1, 1, 3"), and among equal scores the earlier submission is
 * listed first. Organisers' reference submissions are never ranked. A submission being re-scored
 * keeps its last result on the board until the new one replaces it (only evaluated submissions
 * have a result row); a cancelled or failed one leaves it. When a task has a public freeze, the
 * public board counts only submissions created before closesAt minus publicFreezeMinutes until the
 * private board is revealed, then every submission created before closesAt. Postgres keeps each
 * team's best per board in leaderboard_entries (docs/leaderboard.md); ranks are assigned here, on read.
 * Only results of the task's current scoring version count, plus a result kept after its re-score
 * failed (marked olderScoring); `rescoring` says how far a re-score after a scoring change has come.
 */
export interface LeaderboardEntry {
  rank: number;
  teamId: number;
  team: string;
  score: number;
  submissionId: number;
  submittedAt: string;
  /** how many of the team's submissions count on this board (on the private board: its finals) */
  submissionCount: number;
  /** private board only: whether the counted submission is one the team selected or a default final */
  final?: "selected" | "default";
  /** present on the private leaderboard: the team's rank on the public one */
  publicRank?: number;
  publicScore?: number;
  /** the 95% bootstrap interval of `score` (null: scored before intervals existed) */
  interval: ScoreInterval | null;
  /** in the leader's tier: this team's interval overlaps the leader's (lib/leaderboard/uncertainty.ts) */
  statisticallyTied: boolean;
  /** the scoring version of the counted result */
  scoringVersion: number;
  /** the result is of an older scoring version, kept because its re-score under the current one failed */
  olderScoring: boolean;
}

export interface Leaderboard {
  task: string;
  metric: string;
  direction: "MAXIMIZE" | "MINIMIZE";
  board: "public" | "private";
  revealed: boolean;
  /** the public board shows only submissions created before this moment (null: no freeze, or the private board is revealed) */
  frozenFrom: string | null;
  /** how many teams are in the leader's statistically tied tier, the leader included (0: no intervals) */
  statisticallyTiedTeams: number;
  /** the formula the scores are computed with (null: the metric's value) */
  formula: string | null;
  /** the task's current scoring version: only results of it rank (docs/ranking.md) */
  scoringVersion: number;
  /** while a scoring change is applied: submissions re-scored so far of those to re-score; null otherwise */
  rescoring: RescoreProgress | null;
  entries: LeaderboardEntry[];
}

export interface RescoreProgress {
  done: number;
  total: number;
}

/**
 * Reads a board from leaderboard_entries, which Postgres keeps up to date in the transaction of
 * every change that moves it (see docs/leaderboard.md): one indexed read of one row per team,
 * whatever the number of submissions.
 */
async function rankedBoard(taskId: number, board: "PUBLIC" | "PRIVATE", direction: "MAXIMIZE" | "MINIMIZE", scoringVersion: number): Promise<LeaderboardEntry[]> {
  const rows = await db.leaderboardEntry.findMany({
    where: { taskId, board },
    select: {
      teamId: true,
      score: true,
      submissionId: true,
      submittedAt: true,
      submissionCount: true,
      finalKind: true,
      scoringVersion: true,
      team: { select: { name: true } },
      // The interval of the row's own score, on this board's rows (kept in the row by leaderboard_refresh).
      intervalLow: true,
      intervalHigh: true,
    },
  });
  // Sorted here rather than by the index: the rule compares scores by their tie key (lib/leaderboard/ranking.ts).
  // The statistical tier is marked after ranking: it is the leader's.
  return markStatisticalTier(
    rankEntries(
      direction,
      rows.map((row) => ({
        teamId: row.teamId,
        team: row.team.name,
        score: row.score,
        submissionId: row.submissionId,
        submittedAt: row.submittedAt.toISOString(),
        submissionCount: row.submissionCount,
        interval: row.intervalLow === null || row.intervalHigh === null ? null : { low: row.intervalLow, high: row.intervalHigh },
        scoringVersion: row.scoringVersion,
        olderScoring: row.scoringVersion !== scoringVersion,
        ...(board === "PRIVATE" && row.finalKind ? { final: row.finalKind === "SELECTED" ? ("selected" as const) : ("default" as const) } : {}),
      })),
    ),
  );
}

/**
 * How far the re-score after a scoring change has come: of the ranked-kind submissions that have
 * a result (not reference models, not cancelled or failed), those whose result is of the current
 * version or whose re-score under it failed. Null once every one is done.
 */
export async function rescoreProgress(taskId: number): Promise<RescoreProgress | null> {
  // A re-score runs while a submission that has a result waits or runs again (a first evaluation has
  // none): one indexed look first, so the count over every result is paid only during a re-score.
  const [running] = await db.$queryRaw<{ any: boolean }[]>`
    SELECT EXISTS (
      SELECT 1 FROM submissions s JOIN results r ON r.submission_id = s.id
      WHERE s.task_id = ${taskId} AND s.status IN ('QUEUED', 'RUNNING') AND NOT s.is_reference
    ) AS any`;
  if (!running?.any) return null;
  const [row] = await db.$queryRaw<{ done: number; total: number }[]>`
    SELECT count(*) FILTER (WHERE r.scoring_version = t.scoring_version OR s.rescore_failed_version = t.scoring_version)::int AS done,
           count(*)::int AS total
    FROM submissions s JOIN results r ON r.submission_id = s.id JOIN tasks t ON t.id = s.task_id
    WHERE s.task_id = ${taskId} AND NOT s.is_reference AND s.status IN ('SCORED', 'QUEUED', 'RUNNING')`;
  return row && row.done < row.total ? { done: row.done, total: row.total } : null;
}

/** The moment after which new submissions no longer move the public board; null when the task has no freeze. */
export function publicFreezeStart(task: { closesAt: Date | null; publicFreezeMinutes: number }): Date | null {
  if (!task.closesAt || task.publicFreezeMinutes <= 0) return null;
  return new Date(task.closesAt.getTime() - task.publicFreezeMinutes * 60_000);
}

/**
 * The moment before which a submission may show a score publicly (board, chart, events): the
 * freeze start until the private board is revealed; after the reveal, the close. Null: no limit.
 */
export function publicCutoff(task: { closesAt: Date | null; publicFreezeMinutes: number; privateRevealedAt: Date | null }): Date | null {
  if (task.privateRevealedAt) return task.closesAt;
  return publicFreezeStart(task);
}

/** Whether a score of a submission made at `createdAt` is hidden from everyone but its team now. */
export function hiddenByFreeze(
  task: { closesAt: Date | null; publicFreezeMinutes: number; privateRevealedAt: Date | null },
  createdAt: Date,
): boolean {
  const cutoff = publicCutoff(task);
  return cutoff !== null && createdAt >= cutoff;
}

export async function leaderboardForTask(slug: string, board: "public" | "private" = "public"): Promise<Leaderboard> {
  const task = await requireTask(slug);
  const revealed = task.privateRevealedAt !== null;
  const { scoringVersion, scoreFormula } = await db.task.findUniqueOrThrow({ where: { id: task.id }, select: { scoringVersion: true, scoreFormula: true } });
  const frozenFrom = revealed ? null : publicFreezeStart(task);
  const publicEntries = await rankedBoard(task.id, "PUBLIC", task.direction, scoringVersion);
  const base = {
    task: task.slug,
    metric: task.rankMetric,
    direction: task.direction,
    revealed,
    frozenFrom: frozenFrom?.toISOString() ?? null,
    formula: scoreFormula,
    scoringVersion,
    rescoring: await rescoreProgress(task.id),
  };
  if (board === "public" || !revealed) return { ...base, board: "public", statisticallyTiedTeams: statisticalTierSize(publicEntries), entries: publicEntries };

  const publicByTeam = new Map(publicEntries.map((entry) => [entry.teamId, entry]));
  const privateEntries = (await rankedBoard(task.id, "PRIVATE", task.direction, scoringVersion)).map((entry) => ({
    ...entry,
    publicRank: publicByTeam.get(entry.teamId)?.rank,
    publicScore: publicByTeam.get(entry.teamId)?.score,
  }));
  return { ...base, board: "private", statisticallyTiedTeams: statisticalTierSize(privateEntries), entries: privateEntries };
}
