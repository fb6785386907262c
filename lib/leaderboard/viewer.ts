import "server-only";
import { sessionUserOfCookies } from "../auth/request-caller";
import type { SessionUser } from "../auth/session";
import type { EarlyAnswer, EarlyAnswerRoute, EarlyRequest } from "../http/early-answers";
import { earlyForwardedFor, earlyHeader } from "../http/early-answers";
import { clientIpOf } from "../http/client-ip";
import { consumeLimit } from "../http/rate-limits";
import { apiAnswerHeaders } from "../http/security-headers";
import { webMetrics } from "../observability/metrics";
import { leaderboardViewerQuerySchema } from "../schemas/leaderboard";
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

const ANONYMOUS_VIEWER: LeaderboardViewer = { user: null, ownEntry: null, ownPublicScore: null, ownScores: null };

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

/** The reader's own: no cache may keep it or hand it to someone else. */
export const VIEWER_ANSWER_HEADERS = { "Cache-Control": "private, no-store", Vary: "Cookie" } as const;

const LEADERBOARD_VIEWER = /^\/api\/tasks\/([^/?]+)\/leaderboard\/viewer(?:\?(.*))?$/;
const encoder = new TextEncoder();

/**
 * The viewer request answered by the web server before Next (lib/http/early-answers.ts): one per
 * signed-in page view, which Next's route floor (~1 ms of CPU) would otherwise double. The same
 * reader, the same functions, bytes and per-address polling limit as the route; declined (Next
 * answers, with the route's error) for an unknown task, a caller over the limit, or anything that throws.
 */
export const leaderboardViewerEarly: EarlyAnswerRoute = {
  name: "leaderboard-viewer",
  accepts: (request: EarlyRequest) => request.method === "GET" && LEADERBOARD_VIEWER.test(request.url),
  async answer(request: EarlyRequest): Promise<EarlyAnswer | null> {
    const [, encodedTask, search = ""] = LEADERBOARD_VIEWER.exec(request.url) ?? [];
    try {
      const { board } = leaderboardViewerQuerySchema.parse({ board: new URLSearchParams(search).get("board") ?? undefined });
      // Counted as a poll of the board, as the route counts it, before any work: over the limit, the
      // route's 429 (a request the route then refuses for another reason is counted twice).
      await consumeLimit("pollsPerIp", clientIpOf(earlyForwardedFor(request)));
      // The reader: the browser's session cookie alone, as the route reads it (a token is not read here).
      const viewer = await leaderboardViewer(decodeURIComponent(encodedTask), board, await sessionUserOfCookies(earlyHeader(request, "cookie")));
      webMetrics().earlyAnswers.inc({ route: "leaderboard-viewer" });
      return {
        status: 200,
        headers: { ...apiAnswerHeaders(earlyHeader(request, "x-forwarded-proto")), ...VIEWER_ANSWER_HEADERS, "Content-Type": "application/json" },
        body: encoder.encode(JSON.stringify(viewer)),
      };
    } catch {
      return null;
    }
  },
};
