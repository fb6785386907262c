// GET /api/tasks/[task]/leaderboard/events - server-sent events: "scored" with the scoring team's new leaderboard row (no sign-in; public rows only, private ones once revealed)
import { clientIp } from "@/lib/http/client-ip";
import { withErrors } from "@/lib/errors";
import { leaderboardEventStream } from "@/lib/events/leaderboard-stream";
import { holdSlots } from "@/lib/http/rate-limits";
import { requireTask } from "@/lib/tasks/lookup";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (request: Request, context: { params: Promise<{ task: string }> }) => {
  const { task: slug } = await context.params;
  const task = await requireTask(slug);
  const release = await holdSlots([["eventStreamsPerIp", clientIp(request)]]);
  return leaderboardEventStream(task.slug, request.signal, release);
});
