// GET /api/tasks/[task]/leaderboard - best public score per team, ranked (?board=private once revealed)
import { clientIp } from "@/lib/client-ip";
import { withErrors } from "@/lib/errors";
import { leaderboardForTask } from "@/lib/leaderboard";
import { consumeLimit } from "@/lib/rate-limits";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (request: Request, context: { params: Promise<{ task: string }> }) => {
  await consumeLimit("pollsPerIp", clientIp(request));
  const { task } = await context.params;
  const board = new URL(request.url).searchParams.get("board") === "private" ? "private" : "public";
  return Response.json(await leaderboardForTask(task, board));
});
