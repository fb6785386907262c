import "server-only";
import { db } from "./db";
import { assignRanks } from "./leaderboard-ranking";
import { markStatisticalTier, statisticalTierSize, type ScoreInterval } from "./leaderboard-uncertainty";
import { requireTask } from "./tasks";

/**
 * The leaderboards of a task. Each team is represented by its best scored submission (by the
 * public score, or the private one once revealed); ties between a team's own submissions go to
 * the earliest. Equal scores share a rank ("1, 2, 2, 4"), and among equal scores the earlier
 * submission is listed first. Organisers' reference submissions are never ranked. A submission
 * being re-scored keeps its last result on the board until the new one replaces it (only evaluated
 * submissions have a result row); a cancelled or failed one leaves it. When a task has a public
 * freeze, the public board counts only submissions created before closesAt minus
 * publicFreezeMinutes (the private board is never frozen). Postgres keeps each team's best per
 * board in leaderboard_entries (docs/leaderboard.md); ranks are assigned here, on read.
 */
export interface LeaderboardEntry {
  rank: number;
  teamId: number;
  team: string;
  score: number;
  submissionId: number;
  submittedAt: string;
  entries: number;
  /** present on the private leaderboard: the team's rank on the public one */
  publicRank?: number;
  publicScore?: number;
  /** the 95% bootstrap interval of `score` (null: scored before intervals existed) */
  interval: ScoreInterval | null;
  /** in the leader's tier: this team's interval overlaps the leader's (lib/leaderboard-uncertainty.ts) */
  statisticallyTied: boolean;
}

export interface Leaderboard {
  task: string;
  metric: string;
  direction: "MAXIMIZE" | "MINIMIZE";
  board: "public" | "private";
  revealed: boolean;
  /** the public board shows only submissions created before this moment (null: not frozen) */
  frozenFrom: string | null;
  /** how many teams are in the leader's statistically tied tier, the leader included (0: no intervals) */
  statisticallyTiedTeams: number;
  entries: LeaderboardEntry[];
}

/**
 * Reads a board from leaderboard_entries, which Postgres keeps up to date in the transaction of
 * every change that moves it (see docs/leaderboard.md): one indexed read of one row per team,
 * whatever the number of submissions.
 */
async function rankedBoard(taskId: number, board: "PUBLIC" | "PRIVATE", direction: "MAXIMIZE" | "MINIMIZE"): Promise<LeaderboardEntry[]> {
  const order = direction === "MAXIMIZE" ? "desc" : "asc";
  const rows = await db.leaderboardEntry.findMany({
    where: { taskId, board },
    orderBy: [{ score: order }, { submittedAt: "asc" }, { submissionId: "asc" }],
    select: {
      teamId: true,
      score: true,
      submissionId: true,
      submittedAt: true,
      entries: true,
      team: { select: { name: true } },
      // The interval of the board's own score; the private one is read only for the private board.
      submission: {
        select: {
          result: {
            select: {
              publicIntervalLow: board === "PUBLIC",
              publicIntervalHigh: board === "PUBLIC",
              privateIntervalLow: board === "PRIVATE",
              privateIntervalHigh: board === "PRIVATE",
            },
          },
        },
      },
    },
  });
  return markStatisticalTier(
    assignRanks(
      rows.map((row) => ({
        teamId: row.teamId,
        team: row.team.name,
        score: row.score,
        submissionId: row.submissionId,
        submittedAt: row.submittedAt.toISOString(),
        entries: row.entries,
        interval: storedInterval(row.submission.result, board),
      })),
    ),
  );
}

function storedInterval(
  result: { publicIntervalLow?: number | null; publicIntervalHigh?: number | null; privateIntervalLow?: number | null; privateIntervalHigh?: number | null } | null,
  board: "PUBLIC" | "PRIVATE",
): ScoreInterval | null {
  const low = board === "PUBLIC" ? result?.publicIntervalLow : result?.privateIntervalLow;
  const high = board === "PUBLIC" ? result?.publicIntervalHigh : result?.privateIntervalHigh;
  return low === null || low === undefined || high === null || high === undefined ? null : { low, high };
}

/** The moment after which new submissions no longer move the public board; null when not frozen. */
export function publicFreezeStart(task: { closesAt: Date | null; publicFreezeMinutes: number }): Date | null {
  if (!task.closesAt || task.publicFreezeMinutes <= 0) return null;
  return new Date(task.closesAt.getTime() - task.publicFreezeMinutes * 60_000);
}

export async function leaderboardForTask(slug: string, board: "public" | "private" = "public"): Promise<Leaderboard> {
  const task = await requireTask(slug);
  const revealed = task.privateRevealedAt !== null;
  const { publicFreezeMinutes } = await db.task.findUniqueOrThrow({ where: { id: task.id }, select: { publicFreezeMinutes: true } });
  const frozenFrom = publicFreezeStart({ closesAt: task.closesAt, publicFreezeMinutes });
  const publicEntries = await rankedBoard(task.id, "PUBLIC", task.direction);
  const base = { task: task.slug, metric: task.rankMetric, direction: task.direction, revealed, frozenFrom: frozenFrom?.toISOString() ?? null };
  if (board === "public" || !revealed) return { ...base, board: "public", statisticallyTiedTeams: statisticalTierSize(publicEntries), entries: publicEntries };

  const publicByTeam = new Map(publicEntries.map((entry) => [entry.teamId, entry]));
  const privateEntries = (await rankedBoard(task.id, "PRIVATE", task.direction)).map((entry) => ({
    ...entry,
    publicRank: publicByTeam.get(entry.teamId)?.rank,
    publicScore: publicByTeam.get(entry.teamId)?.score,
  }));
  return { ...base, board: "private", statisticallyTiedTeams: statisticalTierSize(privateEntries), entries: privateEntries };
}
