import "server-only";
import { db } from "../db";
import { publicCutoff } from "./board";
import { leaderboardSnapshot, type BoardSnapshot } from "./cache";
import { scoreKey } from "./ranking";
import { requireTask } from "../tasks/lookup";

/**
 * The leaderboard chart: for the top teams (as leaderboardForTask ranks them; no ranking here),
 * each team's best public score so far after each of its scored submissions. The chart is as
 * public as the board: while the board is frozen it draws only submissions created before the
 * freeze, and after the reveal only those created before the close (docs/ranking.md "The freeze").
 */
export interface BestScoreSeries {
  teamId: number;
  team: string;
  points: { at: string; best: number }[];
}

// Computed once per board snapshot: every reader of the page between two changes shares it.
const seriesBySnapshot = new WeakMap<BoardSnapshot, Map<number, Promise<BestScoreSeries[]>>>();

export async function bestScoreOverTime(slug: string, topTeams = 5): Promise<BestScoreSeries[]> {
  const snapshot = await leaderboardSnapshot(slug, "public");
  const memo = seriesBySnapshot.get(snapshot) ?? new Map<number, Promise<BestScoreSeries[]>>();
  seriesBySnapshot.set(snapshot, memo);
  let series = memo.get(topTeams);
  if (!series) {
    series = seriesForTopTeams(slug, snapshot, topTeams);
    memo.set(topTeams, series);
    series.catch(() => memo.delete(topTeams));
  }
  return series;
}

async function seriesForTopTeams(slug: string, snapshot: BoardSnapshot, topTeams: number): Promise<BestScoreSeries[]> {
  const task = await requireTask(slug);
  const top = snapshot.leaderboard.entries.slice(0, topTeams);
  if (top.length === 0) return [];
  const cutoff = publicCutoff(task);
  // Only scores of the board's scoring version, as on the board (docs/ranking.md): never a mix of incomparable ones.
  const scoringVersion = snapshot.leaderboard.scoringVersion;
  const rows = await db.submission.findMany({
    where: {
      taskId: task.id,
      status: "SCORED",
      isReference: false,
      teamId: { in: top.map((entry) => entry.teamId) },
      OR: [{ result: { scoringVersion } }, { rescoreFailedVersion: scoringVersion, result: { isNot: null } }],
      ...(cutoff ? { createdAt: { lt: cutoff } } : {}),
    },
    select: { teamId: true, createdAt: true, result: { select: { publicScore: true } } },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  const better = (a: number, b: number) => (task.direction === "MAXIMIZE" ? scoreKey(a) > scoreKey(b) : scoreKey(a) < scoreKey(b));
  return top.map((entry) => {
    const points: BestScoreSeries["points"] = [];
    let best: number | undefined;
    for (const row of rows) {
      if (row.teamId !== entry.teamId || !row.result) continue;
      if (best === undefined || better(row.result.publicScore, best)) {
        best = row.result.publicScore;
        points.push({ at: row.createdAt.toISOString(), best });
      }
    }
    return { teamId: entry.teamId, team: entry.team, points };
  });
}
