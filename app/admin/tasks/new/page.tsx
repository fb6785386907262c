import { TaskForm } from "@/components/admin/task-form";
import { requireAdminSession } from "@/lib/admin/authorize";
import { liveWorkerRooms } from "@/lib/admin/worker-health";

export const metadata = { title: "New task · Admin" };

export default async function NewTaskPage() {
  await requireAdminSession();
  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-semibold">New task</h1>
      <TaskForm initial={{ kind: "CLASSIFICATION", rankMetric: "accuracy", inputSpec: '[{"name":"input","dtype":"float32","shape":[-1,784]}]', outputSpec: '[{"name":"output","dtype":"float32","shape":[-1,10]}]', publicFraction: "0.5", publicFreezeMinutes: "0" }} workerRooms={await liveWorkerRooms()} />
    </div>
  );
}
