// GET /api/tasks/[task]/announcements - the organisers' announcements for the task and the event-wide ones, newest first (public)
import { announcementsForTask } from "@/lib/tasks/announcements";
import { jsonAnswer } from "@/lib/http/api-answer";
import { clientIp } from "@/lib/http/client-ip";
import { withErrors } from "@/lib/errors";
import { consumeLimit } from "@/lib/http/rate-limits";
import { announcementsSchema } from "@/lib/schemas/submissions";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (request: Request, context: { params: Promise<{ task: string }> }) => {
  await consumeLimit("pollsPerIp", clientIp(request));
  const { task } = await context.params;
  return jsonAnswer(announcementsSchema, { task, announcements: await announcementsForTask(task) }, { headers: { "Cache-Control": "no-store" } });
});
