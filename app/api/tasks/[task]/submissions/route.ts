// GET /api/tasks/[task]/submissions?status=&page= - the caller's team's submissions for the task, newest first, a page at a time (session or Bearer token)
import { jsonAnswer } from "@/lib/http/api-answer";
import { authenticateRequest } from "@/lib/auth/request-caller";
import { clientIp } from "@/lib/http/client-ip";
import { withErrors } from "@/lib/errors";
import { consumeLimit } from "@/lib/http/rate-limits";
import { teamSubmissionsSchema } from "@/lib/schemas/submissions";
import { parseTeamSubmissionsQuery, teamSubmissionsForTask } from "@/lib/submissions/team-list";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (request: Request, context: { params: Promise<{ task: string }> }) => {
  await consumeLimit("pollsPerIp", clientIp(request));
  const { task } = await context.params;
  const caller = await authenticateRequest(request);
  const query = parseTeamSubmissionsQuery(new URL(request.url).searchParams);
  return jsonAnswer(teamSubmissionsSchema, await teamSubmissionsForTask(caller, task, query), { headers: { "Cache-Control": "no-store" } });
});
