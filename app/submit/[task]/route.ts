// POST /submit/[task] - upload a model for evaluation (multipart field "file"; Bearer token or signed-in session)
import { jsonAnswer } from "@/lib/api-answer";
import { authenticateRequest } from "@/lib/auth/request-caller";
import { withErrors } from "@/lib/errors";
import { submitModel } from "@/lib/intake/submit-model";
import { acceptedSubmissionSchema } from "@/lib/schemas/submissions";

export const dynamic = "force-dynamic";

export const POST = withErrors(async (request: Request, context: { params: Promise<{ task: string }> }) => {
  const { task } = await context.params;
  const caller = await authenticateRequest(request);
  const accepted = await submitModel(request, caller, task);
  return jsonAnswer(acceptedSubmissionSchema, accepted, { status: 202, headers: { Location: accepted.statusUrl } });
});
