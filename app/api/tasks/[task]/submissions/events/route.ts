// GET /api/tasks/[task]/submissions/events - server-sent events: status changes of the caller's team's submissions for the task
import { authenticateRequest, callerStillValid } from "@/lib/auth/request-caller";
import { clientIp } from "@/lib/http/client-ip";
import { env } from "@/lib/env";
import { withErrors } from "@/lib/errors";
import { submissionEventStream } from "@/lib/events/event-stream";
import { holdSlots } from "@/lib/http/rate-limits";
import { requireTask } from "@/lib/tasks/lookup";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (request: Request, context: { params: Promise<{ task: string }> }) => {
  const { task: slug } = await context.params;
  const caller = await authenticateRequest(request);
  const task = await requireTask(slug);
  const teamId = caller.teamId;
  const release = await holdSlots([
    ["eventStreamsPerUser", String(caller.userId)],
    ["eventStreamsPerIp", clientIp(request)],
  ]);
  return submissionEventStream(
    request.signal,
    (event) => {
      if (event.taskSlug !== task.slug) return null;
      if (teamId !== null && event.teamId === teamId) {
        return { event: "submission", data: { submissionId: event.submissionId, status: event.status, at: event.at } };
      }
      // Another team's submission left the queue: our queued ones moved up. Say only that.
      if (event.status !== "QUEUED") return { event: "queue", data: { at: event.at } };
      return null;
    },
    // A revoked token, an ended session, a disabled account or a team left closes the stream.
    { stillAllowed: () => callerStillValid(request, caller), recheckMs: env().EVENT_STREAM_RECHECK_MS, onClose: release },
  );
});
