// GET /api/tasks/[task]/leaderboard - best public score per team, ranked (?board=private once revealed)
import { withErrors } from "@/lib/errors";
import { leaderboardForTask } from "@/lib/leaderboard";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (request: Request, context: { params: Promise<{ task: string }> }) => {
  const { task } = await context.params;
  const board = new URL(request.url).searchParams.get("board") === "private" ? "private" : "public";
  return Response.json(await leaderboardForTask(task, board));
});
