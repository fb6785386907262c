// GET /api/tasks/[task]/leaderboard/events - server-sent events: "scored" with the scoring team's new leaderboard row (no sign-in; public rows only, private ones once revealed)
import { withErrors } from "@/lib/errors";
import { leaderboardEventStream } from "@/lib/events/leaderboard-stream";
import { requireTask } from "@/lib/tasks";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (request: Request, context: { params: Promise<{ task: string }> }) => {
  const { task: slug } = await context.params;
  const task = await requireTask(slug);
  return leaderboardEventStream(task.slug, request.signal);
});
