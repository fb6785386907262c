// POST /submit/[task] - upload a model for evaluation (multipart field "file"; Bearer token or signed-in session)
import { jsonAnswer } from "@/lib/http/api-answer";
import { authenticateRequest } from "@/lib/auth/request-caller";
import { assertSameOrigin } from "@/lib/auth/same-origin";
import { clientIp } from "@/lib/http/client-ip";
import { withErrors } from "@/lib/errors";
import { submitModel } from "@/lib/intake/submit-model";
import { holdSlots, type LimitName } from "@/lib/http/rate-limits";
import { acceptedSubmissionSchema } from "@/lib/schemas/submissions";

export const dynamic = "force-dynamic";

export const POST = withErrors(async (request: Request, context: { params: Promise<{ task: string }> }) => {
  const { task } = await context.params;
  const caller = await authenticateRequest(request);
  if (caller.tokenId === null) assertSameOrigin(request);
  // Uploads in flight hold a slot each (per team and per address), so no one ties up the intake.
  const slots: [LimitName, string][] = [["uploadsInFlightPerIp", clientIp(request)]];
  if (caller.teamId !== null) slots.unshift(["uploadsInFlightPerTeam", String(caller.teamId)]);
  const release = await holdSlots(slots);
  try {
    const accepted = await submitModel(request, caller, task);
    return jsonAnswer(acceptedSubmissionSchema, accepted, { status: 202, headers: { Location: accepted.statusUrl } });
  } finally {
    await release();
  }
});
