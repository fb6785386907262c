import { TaskList } from "@/components/tasks/task-list";
import { taskCatalog } from "@/lib/tasks/catalog";

export const dynamic = "force-dynamic";
export const metadata = { title: "Tasks" };

export default async function TasksPage() {
  const tasks = await taskCatalog();
  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-semibold">Tasks</h1>
      <TaskList tasks={tasks} />
    </div>
  );
}
