// GET /api/tasks/[task]/leaderboard - best public score per team, ranked, one page at a time (?board=private once revealed, ?page, ?pageSize, ?search)
// Polls are answered before this route by the web server (lib/leaderboard/poll-answer.ts) with the same
// functions; this route answers under Next's own server and what the early answer declines.
import { withErrors } from "@/lib/errors";
import { clientIp } from "@/lib/http/client-ip";
import { consumeLimit } from "@/lib/http/rate-limits";
import { leaderboardSnapshot, parseLeaderboardQuery, serializedPage } from "@/lib/leaderboard/cache";
import { leaderboardCallerTeam, leaderboardPollAnswer } from "@/lib/leaderboard/poll-answer";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (request: Request, context: { params: Promise<{ task: string }> }) => {
  await consumeLimit("pollsPerIp", clientIp(request));
  const { task } = await context.params;
  const query = parseLeaderboardQuery(new URL(request.url).searchParams);
  const [snapshot, teamId] = await Promise.all([leaderboardSnapshot(task, query.board), leaderboardCallerTeam(request)]);
  const answer = leaderboardPollAnswer(serializedPage(snapshot, query, teamId), teamId, request.headers.get("if-none-match"));
  return new Response(answer.body as BodyInit | null, { status: answer.status, headers: answer.headers });
});
