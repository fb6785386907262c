// GET /api/tasks/[task]/submissions?status=&page= - the caller's team's submissions for the task, newest first, a page at a time (session or Bearer token)
import { authenticateRequest } from "@/lib/auth/request-caller";
import { withErrors } from "@/lib/errors";
import { parseTeamSubmissionsQuery, teamSubmissionsForTask } from "@/lib/team-submissions";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (request: Request, context: { params: Promise<{ task: string }> }) => {
  const { task } = await context.params;
  const caller = await authenticateRequest(request);
  const query = parseTeamSubmissionsQuery(new URL(request.url).searchParams);
  return Response.json(await teamSubmissionsForTask(caller, task, query), { headers: { "Cache-Control": "no-store" } });
});
