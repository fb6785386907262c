// GET /submit/[task]/status/[id] - one submission of the caller's team: status, position, scores, failure
import { jsonAnswer } from "@/lib/http/api-answer";
import { authenticateRequest } from "@/lib/auth/request-caller";
import { clientIp } from "@/lib/http/client-ip";
import { withErrors } from "@/lib/errors";
import { consumeLimit } from "@/lib/http/rate-limits";
import { submissionStatusSchema } from "@/lib/schemas/submissions";
import { submissionStatusForCaller } from "@/lib/submissions/status";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (request: Request, context: { params: Promise<{ task: string; id: string }> }) => {
  await consumeLimit("pollsPerIp", clientIp(request));
  const { task, id } = await context.params;
  const caller = await authenticateRequest(request);
  const submissionId = /^\d+$/.test(id) ? Number(id) : -1;
  return jsonAnswer(submissionStatusSchema, await submissionStatusForCaller(caller, task, submissionId));
});
