// PATCH /api/admin/tasks/[task]/board-settings - what the task's leaderboards show besides the teams (JSON { showReferenceOnBoards })
import { setBoardSettings } from "@/lib/admin/board-settings";
import { requireAdminSession } from "@/lib/admin/authorize";
import { jsonAnswer } from "@/lib/http/api-answer";
import { assertSameOrigin } from "@/lib/auth/same-origin";
import { ApiError, withErrors } from "@/lib/errors";
import { boardSettingsSchema } from "@/lib/schemas/board-settings";

export const dynamic = "force-dynamic";

export const PATCH = withErrors(async (request: Request, { params }: { params: Promise<{ task: string }> }) => {
  const actor = await requireAdminSession();
  assertSameOrigin(request);
  const { task } = await params;
  const body = (await request.json().catch(() => null)) as unknown;
  if (!body || typeof body !== "object") throw new ApiError(400, "BAD_REQUEST", 'Send JSON such as { "showReferenceOnBoards": true }.');
  return jsonAnswer(boardSettingsSchema, await setBoardSettings(actor, task, body));
});
