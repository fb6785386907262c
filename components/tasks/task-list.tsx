import Link from "next/link";
import type { TaskSummary } from "@/lib/tasks/catalog";
import { Deadline } from "./countdown";
import { TaskPhaseBadge } from "./task-phase-badge";

export function TaskList({ tasks }: { tasks: TaskSummary[] }) {
  if (tasks.length === 0) return <p className="text-slate-600">No tasks yet. The organisers will publish them here.</p>;
  return (
    <ul className="grid gap-4 md:grid-cols-2" data-testid="task-list">
      {tasks.map((task) => (
        <li key={task.slug} className="flex flex-col gap-2 rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
          <div className="flex items-start justify-between gap-2">
            <Link href={`/tasks/${task.slug}`} className="text-lg font-semibold text-indigo-700 hover:underline">
              {task.title}
            </Link>
            <TaskPhaseBadge phase={task.phase} />
          </div>
          <p className="text-sm text-slate-600">
            <code>{task.slug}</code> · ranked by {task.rankMetric} ({task.direction === "MAXIMIZE" ? "higher is better" : "lower is better"}) · {task.teams} team(s) scored
          </p>
          <p className="text-sm text-slate-700">
            {task.phase === "upcoming" && <Deadline iso={task.opensAt} label="Opens" />}
            {task.phase === "open" && (task.closesAt ? <Deadline iso={task.closesAt} label="Closes" /> : "Open, no deadline")}
            {task.phase === "closed" && <Deadline iso={task.closesAt} label="Closed" countdownWithinMs={0} />}
          </p>
          <div className="mt-auto flex gap-3 text-sm">
            <Link href={`/tasks/${task.slug}`} className="text-indigo-700 underline">
              Details
            </Link>
            <Link href={`/tasks/${task.slug}/leaderboard`} className="text-indigo-700 underline">
              Leaderboard
            </Link>
          </div>
        </li>
      ))}
    </ul>
  );
}
