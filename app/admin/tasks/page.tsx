import Link from "next/link";
import { requireAdminSession } from "@/lib/admin/authorize";
import { listTasksForAdmin } from "@/lib/admin/task-editor";

export const dynamic = "force-dynamic";
export const metadata = { title: "Tasks · MLS-GOAT admin" };

export default async function AdminTasksPage() {
  const tasks = await listTasksForAdmin(await requireAdminSession());
  return (
    <main className="space-y-4">
      <div className="flex items-center justify-between">
        <h1 className="text-2xl font-semibold">Tasks</h1>
        <Link href="/admin/tasks/new" className="rounded bg-blue-600 px-3 py-1.5 text-sm font-medium text-white">New task</Link>
      </div>
      <table className="w-full bg-white text-sm">
        <thead><tr className="border-b text-left text-xs uppercase text-slate-500"><th className="p-2">Task</th><th className="p-2">Kind</th><th className="p-2">Opens</th><th className="p-2">Closes</th><th className="p-2">Dataset</th><th className="p-2">Submissions</th></tr></thead>
        <tbody>
          {tasks.map((task) => (
            <tr key={task.slug} className="border-b">
              <td className="p-2"><Link className="text-blue-700 hover:underline" href={`/admin/tasks/${task.slug}`}>{task.slug}</Link> · {task.title}</td>
              <td className="p-2">{task.kind.toLowerCase()}</td>
              <td className="p-2">{task.opensAt?.slice(0, 16).replace("T", " ") ?? "—"}</td>
              <td className="p-2">{task.closesAt?.slice(0, 16).replace("T", " ") ?? "—"}</td>
              <td className="p-2">{task.datasetVersion ? task.datasetVersion.slice(0, 12) : <span className="text-red-700">missing</span>}</td>
              <td className="p-2">{task.submissions}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}
