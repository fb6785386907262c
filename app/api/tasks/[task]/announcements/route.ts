// GET /api/tasks/[task]/announcements - the organisers' announcements for the task and the event-wide ones, newest first (public)
import { announcementsForTask } from "@/lib/announcements";
import { withErrors } from "@/lib/errors";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (_request: Request, context: { params: Promise<{ task: string }> }) => {
  const { task } = await context.params;
  return Response.json({ task, announcements: await announcementsForTask(task) }, { headers: { "Cache-Control": "no-store" } });
});
