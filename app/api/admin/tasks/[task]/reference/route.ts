// POST /api/admin/tasks/[task]/reference - upload an organisers' reference model (multipart `file`), evaluated like any submission but never ranked
import { requireAdminSession } from "@/lib/admin/authorize";
import { assertSameOrigin } from "@/lib/auth/same-origin";
import { submitReferenceModel } from "@/lib/tasks/reference-model";
import { withErrors } from "@/lib/errors";

export const dynamic = "force-dynamic";

export const POST = withErrors(async (request: Request, { params }: { params: Promise<{ task: string }> }) => {
  const actor = await requireAdminSession();
  assertSameOrigin(request);
  const { task } = await params;
  return Response.json(await submitReferenceModel(actor, request, task), { status: 202 });
});
