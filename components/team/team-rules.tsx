import Link from "next/link";
import { Card } from "@/components/site/form-parts";
import { LocalTime } from "@/components/site/local-time";
import type { TeamChangeRules } from "@/lib/teams/membership";

/**
 * The team rules as the team page states them (docs/ranking.md, "Teams and daily quota"): the size
 * limit, each open task's team merge deadline, the quota that follows people, and, when team
 * changes are closed for this person, why.
 */
export function TeamChangesClosedNotice({ rules }: { rules: TeamChangeRules }) {
  const { closure } = rules;
  if (!closure) return null;
  return (
    <p className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="team-changes-closed">
      Team changes are closed for you: the team merge deadline of{" "}
      <Link href={`/tasks/${closure.taskSlug}`} className="font-medium underline">
        {closure.taskTitle}
      </Link>{" "}
      passed on <LocalTime iso={closure.closedAt} />, and {closure.because === "you" ? "you have" : "your team has"} submitted to it. You cannot join, leave or
      create a team until it closes; ask the organisers if you must change teams.
    </p>
  );
}

export function TeamRulesCard({ rules }: { rules: TeamChangeRules }) {
  return (
    <Card title="Team rules">
      <ul className="list-disc space-y-1 pl-5 text-sm text-slate-700" data-testid="team-rules">
        <li data-testid="team-size-rule">
          {rules.maxTeamSize === null ? "Teams have no size limit." : `A team has at most ${rules.maxTeamSize} member${rules.maxTeamSize === 1 ? "" : "s"}.`}
        </li>
        <li>
          The daily quota follows people: what you submitted today in one team counts against every team you are in today, so changing teams gives no fresh
          submissions.
        </li>
        <li>
          Each task has a team merge deadline (by default, when it opens). From then until the task closes, whoever has submitted to it, or whose team has, cannot
          join, leave or create a team.
        </li>
      </ul>
      {rules.deadlines.length > 0 && (
        <ul className="mt-3 space-y-1 text-sm" data-testid="merge-deadlines">
          {rules.deadlines.map((task) => (
            <li key={task.slug}>
              <Link href={`/tasks/${task.slug}`} className="text-indigo-700 underline">
                {task.title}
              </Link>
              : team changes {task.passed ? "closed" : "close"} <LocalTime iso={task.closesTeamChangesAt} />
              {task.explicit ? "" : task.passed ? " (when it opened)" : " (when it opens)"}
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
