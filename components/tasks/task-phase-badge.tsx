import type { TaskPhase } from "@/lib/tasks/lookup";

const STYLE: Record<TaskPhase, string> = {
  open: "bg-green-100 text-green-800",
  upcoming: "bg-sky-100 text-sky-800",
  closed: "bg-slate-200 text-slate-700",
};

export function TaskPhaseBadge({ phase }: { phase: TaskPhase }) {
  return <span className={`rounded-full px-2 py-0.5 text-xs font-medium ${STYLE[phase]}`}>{phase}</span>;
}
