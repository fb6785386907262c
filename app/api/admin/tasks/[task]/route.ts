// PATCH /api/admin/tasks/[task] - change a task's settings; a scoring change on a task with evaluated submissions needs confirmRescore and re-scores them
import { requireAdminSession } from "@/lib/admin/authorize";
import { updateTaskFromApi } from "@/lib/tasks/editor";
import { jsonAnswer, jsonObjectBody } from "@/lib/http/api-answer";
import { assertSameOrigin } from "@/lib/auth/same-origin";
import { withErrors } from "@/lib/errors";
import { taskUpdateAnswerSchema } from "@/lib/schemas/tasks";

export const dynamic = "force-dynamic";

export const PATCH = withErrors(async (request: Request, { params }: { params: Promise<{ task: string }> }) => {
  const actor = await requireAdminSession();
  assertSameOrigin(request);
  const { task } = await params;
  const body = await jsonObjectBody(request, '{ "publicFraction": 0.6, "confirmRescore": true } (the settings to change)');
  return jsonAnswer(taskUpdateAnswerSchema, await updateTaskFromApi(actor, task, body), { headers: { "cache-control": "no-store" } });
});
