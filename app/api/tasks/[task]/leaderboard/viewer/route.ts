// GET /api/tasks/[task]/leaderboard/viewer?board= - the signed-in reader's own part of the leaderboard page
// (who they are, their team's row, its best public score, its scored submissions): the page's HTML is the same
// for every reader (lib/leaderboard/page-html-cache.ts), and the browser fills this in (lib/leaderboard/viewer.ts).
// Read from the browser's session cookie only; anyone else gets the empty viewer.
import { cookieJar } from "@/lib/auth/request-caller";
import { sessionClaimFromCookies, sessionUserForClaim } from "@/lib/auth/session";
import { withErrors } from "@/lib/errors";
import { leaderboardViewer } from "@/lib/leaderboard/viewer";
import { leaderboardViewerQuerySchema } from "@/lib/schemas/leaderboard";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (request: Request, context: { params: Promise<{ task: string }> }) => {
  const { task } = await context.params;
  const { board } = leaderboardViewerQuerySchema.parse({ board: new URL(request.url).searchParams.get("board") ?? undefined });
  const claim = await sessionClaimFromCookies(cookieJar(request));
  const user = claim ? await sessionUserForClaim(claim) : null;
  const viewer = await leaderboardViewer(task, board, user);
  // The reader's own: no cache may keep it or hand it to someone else.
  return Response.json(viewer, { headers: { "Cache-Control": "private, no-store", Vary: "Cookie" } });
});
