import { LiveDashboard } from "@/components/admin/live-dashboard";
import { requireAdminSession } from "@/lib/admin/authorize";
import { dashboardSnapshot } from "@/lib/admin/dashboard";

export const dynamic = "force-dynamic";
export const metadata = { title: "Dashboard · Admin" };

export default async function AdminDashboardPage() {
  const actor = await requireAdminSession();
  return (
    <div>
      <h1 className="mb-4 text-2xl font-semibold">Dashboard</h1>
      <LiveDashboard initial={await dashboardSnapshot(actor)} />
    </div>
  );
}
