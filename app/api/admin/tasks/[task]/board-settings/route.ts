// PATCH /api/admin/tasks/[task]/board-settings - what the task's leaderboards show besides the teams (JSON { showReferenceOnBoards })
import { setBoardSettings } from "@/lib/admin/board-settings";
import { requireAdminSession } from "@/lib/admin/authorize";
import { jsonAnswer, jsonObjectBody } from "@/lib/http/api-answer";
import { assertSameOrigin } from "@/lib/auth/same-origin";
import { withErrors } from "@/lib/errors";
import { boardSettingsSchema } from "@/lib/schemas/board-settings";

export const dynamic = "force-dynamic";

export const PATCH = withErrors(async (request: Request, { params }: { params: Promise<{ task: string }> }) => {
  const actor = await requireAdminSession();
  assertSameOrigin(request);
  const { task } = await params;
  const body = await jsonObjectBody(request, '{ "showReferenceOnBoards": true }');
  return jsonAnswer(boardSettingsSchema, await setBoardSettings(actor, task, body));
});
