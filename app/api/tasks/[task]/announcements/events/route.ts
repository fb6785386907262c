// GET /api/tasks/[task]/announcements/events - server-sent events: "an announcement for this task (or the event) was posted or withdrawn" (public)
import { clientIp } from "@/lib/http/client-ip";
import { withErrors } from "@/lib/errors";
import { subscribeAnnouncementEvents } from "@/lib/events/announcement-events";
import { serverSentEventStream } from "@/lib/events/event-stream";
import { holdSlots } from "@/lib/http/rate-limits";
import { requireTask } from "@/lib/tasks/lookup";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (request: Request, context: { params: Promise<{ task: string }> }) => {
  const { task: slug } = await context.params;
  const task = await requireTask(slug);
  const release = await holdSlots([["eventStreamsPerIp", clientIp(request)]]);
  return serverSentEventStream(
    request.signal,
    subscribeAnnouncementEvents,
    (event) => (event.taskSlug === null || event.taskSlug === task.slug ? { event: "announcement", data: { id: event.announcementId, change: event.change, at: event.at } } : null),
    { onClose: release },
  );
});
