// PATCH /api/tasks/[task]/submissions/[id] - rename or re-describe one of the team's submissions (JSON { name?, description? }; session or Bearer token)
import { jsonAnswer, jsonObjectBody } from "@/lib/http/api-answer";
import { authenticateRequest } from "@/lib/auth/request-caller";
import { assertSameOrigin } from "@/lib/auth/same-origin";
import { withErrors } from "@/lib/errors";
import { submissionLabelsAnswerSchema } from "@/lib/schemas/submissions";
import { updateSubmissionLabels } from "@/lib/submissions/labels";

export const dynamic = "force-dynamic";

export const PATCH = withErrors(async (request: Request, context: { params: Promise<{ task: string; id: string }> }) => {
  const { task, id } = await context.params;
  const caller = await authenticateRequest(request);
  // A change made with the session cookie must come from our own pages (a Bearer token needs no Origin).
  if (caller.tokenId === null) assertSameOrigin(request);
  const body = await jsonObjectBody(request, '{ "name": "bigger MLP", "description": "..." }');
  const labels = await updateSubmissionLabels(caller, task, Number(id), body);
  return jsonAnswer(submissionLabelsAnswerSchema, { id: Number(id), task, ...labels });
});
