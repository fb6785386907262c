// PATCH /api/admin/tasks/[task] - change a task's settings; a scoring change on a task with evaluated submissions needs confirmRescore and re-scores them
import { requireAdminSession } from "@/lib/admin/authorize";
import { updateTaskFromApi } from "@/lib/tasks/editor";
import { jsonAnswer } from "@/lib/http/api-answer";
import { assertSameOrigin } from "@/lib/auth/same-origin";
import { ApiError, withErrors } from "@/lib/errors";
import { taskUpdateAnswerSchema } from "@/lib/schemas/tasks";

export const dynamic = "force-dynamic";

export const PATCH = withErrors(async (request: Request, { params }: { params: Promise<{ task: string }> }) => {
  const actor = await requireAdminSession();
  assertSameOrigin(request);
  const { task } = await params;
  const body = (await request.json().catch(() => null)) as unknown;
  if (!body || typeof body !== "object") throw new ApiError(400, "BAD_REQUEST", 'Send the settings to change as JSON, e.g. { "publicFraction": 0.6, "confirmRescore": true }.');
  return jsonAnswer(taskUpdateAnswerSchema, await updateTaskFromApi(actor, task, body), { headers: { "cache-control": "no-store" } });
});
