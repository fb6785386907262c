// POST /api/admin/tasks/[task]/dataset - upload a task's hidden test set (multipart inputs, labels, optional train), validated before it replaces the live one
import { requireAdminSession } from "@/lib/admin/authorize";
import { assertSameOrigin } from "@/lib/auth/same-origin";
import { importUploadedDataset } from "@/lib/tasks/dataset-upload";
import { withErrors } from "@/lib/errors";

export const dynamic = "force-dynamic";

export const POST = withErrors(async (request: Request, { params }: { params: Promise<{ task: string }> }) => {
  const actor = await requireAdminSession();
  assertSameOrigin(request);
  const { task } = await params;
  return Response.json(await importUploadedDataset(actor, request, task), { status: 201 });
});
