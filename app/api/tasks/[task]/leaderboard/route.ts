// GET /api/tasks/[task]/leaderboard - best public score per team, ranked, one page at a time (?board=private once revealed, ?page, ?pageSize, ?search)
// Anonymous polls are answered before this route by the web server (lib/leaderboard/poll-answer.ts); the rest come here.
import { authenticateRequest } from "@/lib/auth/request-caller";
import { clientIp } from "@/lib/http/client-ip";
import { withErrors } from "@/lib/errors";
import { leaderboardSnapshot, parseLeaderboardQuery, serializedPage } from "@/lib/leaderboard/cache";
import { leaderboardPollAnswer } from "@/lib/leaderboard/poll-answer";
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
  const answer = leaderboardPollAnswer(serializedPage(snapshot, query, teamId), teamId, request.headers.get("if-none-match"));
  return new Response(answer.body as BodyInit | null, { status: answer.status, headers: answer.headers });
});
