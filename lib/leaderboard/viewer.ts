import "server-only";
import type { SessionUser } from "../auth/session";
import { teamScoresForTask } from "../submissions/team-list";
import type { LeaderboardEntry } from "./board";
import { leaderboardSnapshot, type BoardKind } from "./cache";

/**
 * The part of the leaderboard page that is the reader's own: who they are (the site's header), their
 * team's row on the board, its best public score (its bar in the score histogram) and every scored
 * submission of the team (its chart). The page itself is the same HTML for every reader
 * (lib/leaderboard/page-html-cache.ts keeps it); the browser asks for this once per page view
 * (components/tasks/leaderboard-viewer.tsx), from
 * `GET /api/tasks/{task}/leaderboard/viewer?board=` (app/api/tasks/[task]/leaderboard/viewer/route.ts).
 */
export interface LeaderboardViewer {
  /** the signed-in reader as the header shows them; null for anyone else */
  user: ViewerUser | null;
  /** the team's row on this board (the freeze holds: the public board's row is the frozen one) */
  ownEntry: LeaderboardEntry | null;
  /** the team's best score on the public board, which the histogram bins */
  ownPublicScore: number | null;
  /** every scored submission of the team on this task, oldest first; null without a team */
  ownScores: { id: number; score: number }[] | null;
}

export interface ViewerUser {
  name: string;
  role: SessionUser["role"];
  team: { id: number; name: string } | null;
}

export const ANONYMOUS_VIEWER: LeaderboardViewer = { user: null, ownEntry: null, ownPublicScore: null, ownScores: null };

/** The reader's own part of a task's board (`board` as the page shows it). Throws the board's own errors (unknown task, unrevealed private board). */
export async function leaderboardViewer(slug: string, board: BoardKind, user: SessionUser | null): Promise<LeaderboardViewer> {
  const snapshot = await leaderboardSnapshot(slug, board);
  if (!user) return ANONYMOUS_VIEWER;
  const viewerUser: ViewerUser = { name: user.name, role: user.role, team: user.team };
  const teamId = user.team?.id;
  if (teamId === undefined) return { ...ANONYMOUS_VIEWER, user: viewerUser };
  const [publicBoard, ownScores] = await Promise.all([
    board === "public" ? snapshot : leaderboardSnapshot(slug, "public", snapshot.leaderboard.revealed),
    teamScoresForTask(teamId, slug),
  ]);
  return {
    user: viewerUser,
    ownEntry: snapshot.byTeam.get(teamId) ?? null,
    ownPublicScore: publicBoard.byTeam.get(teamId)?.score ?? null,
    ownScores,
  };
}
