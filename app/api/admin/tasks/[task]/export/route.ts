// GET /api/admin/tasks/[task]/export?kind=leaderboard|private-leaderboard|submissions&format=csv|json - organisers' exports
import { requireAdminSession } from "@/lib/admin/authorize";
import { exportRows, toCsv } from "@/lib/admin/export";
import { withErrors } from "@/lib/errors";
import { exportQuerySchema } from "@/lib/schemas/platform";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (request: Request, { params }: { params: Promise<{ task: string }> }) => {
  const actor = await requireAdminSession();
  const { task } = await params;
  const url = new URL(request.url);
  const { kind, format } = exportQuerySchema.parse(Object.fromEntries(url.searchParams));
  const rows = await exportRows(actor, task, kind);
  const fileName = `${task}-${kind}.${format}`;
  const headers = { "content-disposition": `attachment; filename="${fileName}"`, "cache-control": "no-store" };
  if (format === "json") return Response.json(rows, { headers });
  return new Response(toCsv(rows), { headers: { ...headers, "content-type": "text/csv; charset=utf-8" } });
});
