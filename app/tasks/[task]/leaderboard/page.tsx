import Link from "next/link";
import { notFound } from "next/navigation";
import { BestScoreChart } from "@/components/charts/best-score-chart";
import { TeamScoreChart } from "@/components/charts/team-score-chart";
import { Card } from "@/components/site/form-parts";
import { RelativeTime } from "@/components/site/relative-time";
import { ScrollTable } from "@/components/site/scroll-table";
import { formatScore } from "@/components/tasks/format";
import { LeaderboardLive } from "@/components/tasks/leaderboard-live";
import { TaskBreadcrumb } from "@/components/tasks/task-breadcrumb";
import { currentUser } from "@/lib/auth/session";
import { leaderboardForTask } from "@/lib/leaderboard";
import { bestScoreOverTime } from "@/lib/leaderboard-history";
import { taskDetail } from "@/lib/task-catalog";
import { teamSubmissionsForTask } from "@/lib/team-submissions";

export const dynamic = "force-dynamic";
export async function generateMetadata({ params }: { params: Promise<{ task: string }> }) {
  const task = await taskDetail((await params).task);
  return { title: `Leaderboard · ${task?.title ?? "Task not found"}` };
}

export default async function LeaderboardPage({ params, searchParams }: { params: Promise<{ task: string }>; searchParams: Promise<{ board?: string }> }) {
  const { task: slug } = await params;
  const task = await taskDetail(slug);
  if (!task) notFound();
  const revealed = task.privateRevealedAt !== null;
  const board = revealed && (await searchParams).board === "private" ? "private" : "public";
  const [leaderboard, history, user] = await Promise.all([leaderboardForTask(task.slug, board), bestScoreOverTime(task.slug), currentUser()]);
  const own = user?.team ? await teamSubmissionsForTask({ teamId: user.team.id }, task.slug) : null;
  const ownPoints = own ? own.submissions.filter((row) => row.result).map((row) => ({ id: row.id, score: row.result!.score })).reverse() : [];
  // The browser's clock may differ from the server's; relative times measure from this.
  const renderedAt = new Date().toISOString();
  const tab = (active: boolean) => `rounded-md px-3 py-1 text-sm ${active ? "bg-indigo-600 text-white" : "border border-slate-300 bg-white text-slate-700"}`;

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div className="space-y-1">
          <TaskBreadcrumb slug={task.slug} title={task.title} />
          <h1 className="text-2xl font-semibold">{board === "private" ? "Private leaderboard" : "Leaderboard"}</h1>
          <p className="text-sm text-slate-600">
            Best {board} score per team by {leaderboard.metric} ({leaderboard.direction === "MAXIMIZE" ? "higher is better" : "lower is better"}); equal scores share a rank.
          </p>
        </div>
        <div className="flex flex-wrap items-center gap-3">
          {revealed && (
            <nav className="flex gap-2">
              <Link href={`/tasks/${task.slug}/leaderboard`} className={tab(board === "public")}>
                Public
              </Link>
              <Link href={`/tasks/${task.slug}/leaderboard?board=private`} className={tab(board === "private")}>
                Private
              </Link>
            </nav>
          )}
          <LeaderboardLive taskSlug={task.slug} />
        </div>
      </div>

      <Card>
        {leaderboard.entries.length === 0 ? (
          <p className="text-sm text-slate-600">No scored submissions yet.</p>
        ) : (
          <ScrollTable label={board === "private" ? "Private leaderboard" : "Leaderboard"}>
            <table className="w-full text-left text-sm" data-testid="leaderboard-table">
              <thead className="text-xs uppercase text-slate-500">
                <tr>
                  <th className="py-2 pr-3">{board === "private" ? "Private rank" : "Rank"}</th>
                  {board === "private" && <th className="py-2 pr-3">Public rank</th>}
                  <th className="py-2 pr-3">Team</th>
                  <th className="py-2 pr-3 text-right">{leaderboard.metric}</th>
                  {board === "private" && <th className="py-2 pr-3 text-right">Public score</th>}
                  <th className="py-2 pr-3 text-right">Entries</th>
                  <th className="py-2">Best submitted</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {leaderboard.entries.map((entry) => (
                  <tr key={entry.teamId} className={user?.team?.id === entry.teamId ? "bg-indigo-50" : ""} data-testid="leaderboard-row" data-team={entry.team}>
                    <td className="py-2 pr-3 font-semibold" data-testid="rank">
                      {entry.rank}
                    </td>
                    {board === "private" && <td className="py-2 pr-3">{entry.publicRank ?? "–"}</td>}
                    <td className="py-2 pr-3">{entry.team}</td>
                    <td className="py-2 pr-3 text-right font-mono" data-testid="score">
                      {formatScore(entry.score)}
                    </td>
                    {board === "private" && <td className="py-2 pr-3 text-right font-mono">{entry.publicScore !== undefined ? formatScore(entry.publicScore) : "–"}</td>}
                    <td className="py-2 pr-3 text-right">{entry.entries}</td>
                    <td className="py-2">
                      <RelativeTime iso={entry.submittedAt} serverNow={renderedAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollTable>
        )}
      </Card>

      <div className="grid gap-4 lg:grid-cols-2">
        <Card title="Best public score over time (top teams)">
          <BestScoreChart series={history} metric={leaderboard.metric} />
        </Card>
        {own && (
          <Card title="Your team's submissions">
            <TeamScoreChart points={ownPoints} metric={leaderboard.metric} />
          </Card>
        )}
      </div>
    </div>
  );
}
