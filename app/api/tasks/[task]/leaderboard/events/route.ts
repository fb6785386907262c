// GET /api/tasks/[task]/leaderboard/events - server-sent events: "a submission of this task was scored" (no sign-in; no team or submission ids)
import { clientIp } from "@/lib/client-ip";
import { withErrors } from "@/lib/errors";
import { submissionEventStream } from "@/lib/events/event-stream";
import { holdSlots } from "@/lib/rate-limits";
import { requireTask } from "@/lib/tasks";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (request: Request, context: { params: Promise<{ task: string }> }) => {
  const { task: slug } = await context.params;
  const task = await requireTask(slug);
  const release = await holdSlots([["eventStreamsPerIp", clientIp(request)]]);
  return submissionEventStream(
    request.signal,
    (event) => (event.taskSlug === task.slug && event.status === "SCORED" ? { event: "scored", data: { task: task.slug, at: event.at } } : null),
    { onClose: release },
  );
});
