// GET /api/tasks/[task]/leaderboard - best public score per team, ranked, one page at a time (?board=private once revealed, ?page, ?pageSize, ?search)
import { authenticateRequest } from "@/lib/auth/request-caller";
import { clientIp } from "@/lib/http/client-ip";
import { withErrors } from "@/lib/errors";
import { leaderboardSnapshot, matchesEtag, parseLeaderboardQuery, serializedPage } from "@/lib/leaderboard/cache";
import { consumeLimit } from "@/lib/http/rate-limits";

export const dynamic = "force-dynamic";

/** The signed-in caller's team (their row is always in the answer); anonymous readers get the board alone. */
async function callerTeamId(request: Request): Promise<number | null> {
  if (!request.headers.has("authorization") && !request.headers.has("cookie")) return null;
  try {
    return (await authenticateRequest(request)).teamId;
  } catch {
    return null;
  }
}

export const GET = withErrors(async (request: Request, context: { params: Promise<{ task: string }> }) => {
  await consumeLimit("pollsPerIp", clientIp(request));
  const { task } = await context.params;
  const query = parseLeaderboardQuery(new URL(request.url).searchParams);
  const [snapshot, teamId] = await Promise.all([leaderboardSnapshot(task, query.board), callerTeamId(request)]);
  const { body, etag } = serializedPage(snapshot, query, teamId);
  const headers = {
    ETag: etag,
    // A few seconds let a proxy or CDN answer a crowd of anonymous readers; an answer that holds the
    // caller's own row is theirs alone.
    "Cache-Control": teamId === null ? "public, max-age=2, stale-while-revalidate=5" : "private, max-age=2",
    Vary: "Authorization, Cookie",
  };
  if (matchesEtag(request.headers.get("if-none-match"), etag)) return new Response(null, { status: 304, headers });
  return new Response(body, { headers: { ...headers, "Content-Type": "application/json" } });
});
