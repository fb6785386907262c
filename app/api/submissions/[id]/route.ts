// GET /api/submissions/[id] - one submission of the caller's team by id alone (what `goat status ID` reads)
import { jsonAnswer } from "@/lib/http/api-answer";
import { authenticateRequest } from "@/lib/auth/request-caller";
import { clientIp } from "@/lib/http/client-ip";
import { withErrors } from "@/lib/errors";
import { consumeLimit } from "@/lib/http/rate-limits";
import { submissionStatusSchema } from "@/lib/schemas/submissions";
import { submissionStatusById } from "@/lib/submissions/status";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (request: Request, context: { params: Promise<{ id: string }> }) => {
  await consumeLimit("pollsPerIp", clientIp(request));
  const { id } = await context.params;
  const caller = await authenticateRequest(request);
  return jsonAnswer(submissionStatusSchema, await submissionStatusById(caller, /^\d+$/.test(id) ? Number(id) : -1));
});
