// GET /api/admin/dashboard - the admin dashboard's live snapshot (workers, queue, charts, failures, audit), polled by the page
import { requireAdminSession } from "@/lib/admin/authorize";
import { dashboardSnapshot } from "@/lib/admin/dashboard";
import { withErrors } from "@/lib/errors";

export const dynamic = "force-dynamic";

export const GET = withErrors(async () => {
  const actor = await requireAdminSession();
  return Response.json(await dashboardSnapshot(actor), { headers: { "cache-control": "no-store" } });
});
