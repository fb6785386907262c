// GET /api/tasks/[task]/submissions - the caller's team's submissions for the task, newest first (session or Bearer token)
import { jsonAnswer } from "@/lib/api-answer";
import { authenticateRequest } from "@/lib/auth/request-caller";
import { withErrors } from "@/lib/errors";
import { teamSubmissionsSchema } from "@/lib/schemas/submissions";
import { teamSubmissionsForTask } from "@/lib/team-submissions";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (request: Request, context: { params: Promise<{ task: string }> }) => {
  const { task } = await context.params;
  const caller = await authenticateRequest(request);
  return jsonAnswer(teamSubmissionsSchema, await teamSubmissionsForTask(caller, task), { headers: { "Cache-Control": "no-store" } });
});
