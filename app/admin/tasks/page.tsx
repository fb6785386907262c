import Link from "next/link";
import { Card, primaryButton } from "@/components/site/form-parts";
import { LocalTime } from "@/components/site/local-time";
import { ScrollTable } from "@/components/site/scroll-table";
import { requireAdminSession } from "@/lib/admin/authorize";
import { listTasksForAdmin } from "@/lib/tasks/editor";

export const dynamic = "force-dynamic";
export const metadata = { title: "Tasks · Admin" };

export default async function AdminTasksPage() {
  const tasks = await listTasksForAdmin(await requireAdminSession());
  return (
    <div className="space-y-4">
      <div className="flex items-center justify-between">
        <h1 className="text-2xl font-semibold">Tasks</h1>
        <Link href="/admin/tasks/new" className={primaryButton}>New task</Link>
      </div>
      <Card>
        <ScrollTable label="Tasks">
          <table className="w-full text-sm">
            <thead><tr className="border-b border-slate-200 text-left text-xs uppercase text-slate-500"><th className="p-2">Task</th><th className="p-2">Kind</th><th className="p-2">Opens</th><th className="p-2">Closes</th><th className="p-2">Dataset</th><th className="p-2">Submissions</th></tr></thead>
            <tbody>
              {tasks.map((task) => (
                <tr key={task.slug} className="border-b border-slate-200">
                  <td className="p-2"><Link className="text-indigo-700 underline" href={`/admin/tasks/${task.slug}`}>{task.slug}</Link> · {task.title}</td>
                  <td className="p-2">{task.kind.toLowerCase()}</td>
                  <td className="p-2"><LocalTime iso={task.opensAt} /></td>
                  <td className="p-2"><LocalTime iso={task.closesAt} /></td>
                  <td className="p-2">{task.datasetVersion ? task.datasetVersion.slice(0, 12) : <span className="text-red-700">missing</span>}</td>
                  <td className="p-2">{task.submissions}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollTable>
      </Card>
    </div>
  );
}
