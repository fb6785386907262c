// GET /api/admin/tasks/[task]/validation - the task's dataset version and its latest reference model's outcome
import { requireAdminSession } from "@/lib/admin/authorize";
import { taskValidation } from "@/lib/tasks/reference-model";
import { withErrors } from "@/lib/errors";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (_request: Request, { params }: { params: Promise<{ task: string }> }) => {
  const actor = await requireAdminSession();
  const { task } = await params;
  return Response.json(await taskValidation(actor, task), { headers: { "cache-control": "no-store" } });
});
