// GET, POST /api/tasks/[task]/finals - the team's final submissions for the private leaderboard; POST { submissionIds } replaces them until the task closes (session or Bearer token)
import { jsonAnswer, jsonObjectBody } from "@/lib/http/api-answer";
import { authenticateRequest } from "@/lib/auth/request-caller";
import { assertSameOrigin } from "@/lib/auth/same-origin";
import { clientIp } from "@/lib/http/client-ip";
import { withErrors } from "@/lib/errors";
import { finalSelectionForTeam, selectFinalSubmissions } from "@/lib/leaderboard/finals";
import { consumeLimit } from "@/lib/http/rate-limits";
import { finalSelectionSchema } from "@/lib/schemas/leaderboard";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (request: Request, context: { params: Promise<{ task: string }> }) => {
  await consumeLimit("pollsPerIp", clientIp(request));
  const { task } = await context.params;
  const caller = await authenticateRequest(request);
  return jsonAnswer(finalSelectionSchema, await finalSelectionForTeam(caller, task), { headers: { "Cache-Control": "no-store" } });
});

export const POST = withErrors(async (request: Request, context: { params: Promise<{ task: string }> }) => {
  const { task } = await context.params;
  const caller = await authenticateRequest(request);
  // A change made with the session cookie must come from our own pages (a Bearer token needs no Origin).
  if (caller.tokenId === null) assertSameOrigin(request);
  const body = await jsonObjectBody(request, '{ "submissionIds": [12, 15] }');
  return jsonAnswer(finalSelectionSchema, await selectFinalSubmissions(caller, task, body), { headers: { "Cache-Control": "no-store" } });
});
