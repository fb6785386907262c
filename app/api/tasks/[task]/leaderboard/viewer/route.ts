// GET /api/tasks/[task]/leaderboard/viewer?board= - the signed-in reader's own part of the leaderboard page
// (who they are, their team's row, its best public score, its scored submissions): the page's HTML is the same
// for every reader (lib/leaderboard/page-html-cache.ts), and the browser fills this in (lib/leaderboard/viewer.ts).
// Read from the browser's session cookie only; anyone else gets the empty viewer. Counted against the per-address
// polling limit, as the board's polls are. The web server answers it
// before Next with the same functions (leaderboardViewerEarly); this route answers what that declines.
import { sessionUserOfCookies } from "@/lib/auth/request-caller";
import { withErrors } from "@/lib/errors";
import { clientIp } from "@/lib/http/client-ip";
import { consumeLimit } from "@/lib/http/rate-limits";
import { leaderboardViewer, VIEWER_ANSWER_HEADERS } from "@/lib/leaderboard/viewer";
import { leaderboardViewerQuerySchema } from "@/lib/schemas/leaderboard";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (request: Request, context: { params: Promise<{ task: string }> }) => {
  // One per page view; counted with the board's polls, per address.
  await consumeLimit("pollsPerIp", clientIp(request));
  const { task } = await context.params;
  const { board } = leaderboardViewerQuerySchema.parse({ board: new URL(request.url).searchParams.get("board") ?? undefined });
  const viewer = await leaderboardViewer(task, board, await sessionUserOfCookies(request.headers.get("cookie")));
  return Response.json(viewer, { headers: VIEWER_ANSWER_HEADERS });
});
