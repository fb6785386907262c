import Link from "next/link";
import { TaskList } from "@/components/tasks/task-list";
import { currentUser } from "@/lib/auth/session";
import { taskCatalog } from "@/lib/tasks/catalog";

export const dynamic = "force-dynamic";

export default async function HomePage() {
  const [user, tasks] = await Promise.all([currentUser(), taskCatalog()]);
  return (
    <div className="space-y-8">
      <section className="space-y-3">
        <h1 className="text-3xl font-bold tracking-tight">Machine-learning hackathon leaderboards</h1>
        <p className="max-w-2xl text-slate-700">
          Pick a task, train a model, export it to ONNX and upload it. Every model is checked at once, evaluated on a hidden test set, and ranked live.
        </p>
        {!user && (
          <p className="flex gap-3">
            <Link href="/signup" className="rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-700">
              Sign up
            </Link>
            <Link href="/signin" className="rounded-md border border-slate-300 bg-white px-4 py-2 text-sm font-medium">
              Sign in
            </Link>
          </p>
        )}
        {user && !user.team && (
          <p className="rounded-md bg-amber-50 p-3 text-sm text-amber-900">
            You are in no team yet. <Link href="/team" className="underline">Create or join one</Link> to submit.
          </p>
        )}
      </section>
      <section className="space-y-3">
        <h2 className="text-xl font-semibold">Tasks</h2>
        <TaskList tasks={tasks} />
      </section>
    </div>
  );
}
