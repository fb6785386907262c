import Link from "next/link";
import { notFound } from "next/navigation";
import { AnnouncementFeed } from "@/components/announcements/announcement-feed";
import { Card } from "@/components/site/form-parts";
import { LocalTime } from "@/components/site/local-time";
import { Markdown } from "@/components/site/markdown";
import { Deadline } from "@/components/tasks/countdown";
import { CurlCommands } from "@/components/tasks/curl-commands";
import { formatBytes, formatDuration, formatSpec } from "@/components/tasks/format";
import { TaskPhaseBadge } from "@/components/tasks/task-phase-badge";
import { UploadForm } from "@/components/tasks/upload-form";
import { NoTeamNotice } from "@/components/team/no-team-notice";
import { currentUser } from "@/lib/auth/session";
import { publicBaseUrl } from "@/lib/http/public-url";
import { announcementsForTask } from "@/lib/tasks/announcements";
import { latestTeamSubmissionId, taskDetail, teamQuotaForTask } from "@/lib/tasks/catalog";

export const dynamic = "force-dynamic";

export async function generateMetadata({ params }: { params: Promise<{ task: string }> }) {
  const task = await taskDetail((await params).task);
  return { title: task ? task.title : "Task not found" };
}

export default async function TaskPage({ params }: { params: Promise<{ task: string }> }) {
  const { task: slug } = await params;
  const [task, user, baseUrl] = await Promise.all([taskDetail(slug), currentUser(), publicBaseUrl()]);
  if (!task) notFound();
  const [quota, latestId] = await Promise.all([teamQuotaForTask(user?.team?.id ?? null, task), latestTeamSubmissionId(user?.team?.id ?? null, task.id)]);

  return (
    <div className="space-y-6">
      <div className="space-y-2">
        <div className="flex flex-wrap items-center gap-3">
          <h1 className="text-2xl font-semibold">{task.title}</h1>
          <TaskPhaseBadge phase={task.phase} />
        </div>
        <p className="flex flex-wrap gap-x-4 gap-y-1 text-sm text-slate-700">
          <code>{task.slug}</code>
          {task.opensAt && <Deadline iso={task.opensAt} label={task.phase === "upcoming" ? "Opens" : "Opened"} countdownWithinMs={task.phase === "upcoming" ? undefined : 0} />}
          {task.closesAt && <Deadline iso={task.closesAt} label={task.phase === "closed" ? "Closed" : "Closes"} countdownWithinMs={task.phase === "closed" ? 0 : undefined} />}
        </p>
        <nav className="flex gap-4 text-sm">
          <Link href={`/tasks/${task.slug}/leaderboard`} className="text-indigo-700 underline">
            Leaderboard
          </Link>
          {user && (
            <Link href={`/tasks/${task.slug}/submissions`} className="text-indigo-700 underline">
              My submissions
            </Link>
          )}
        </nav>
      </div>
      <AnnouncementFeed taskSlug={task.slug} initial={await announcementsForTask(task.slug)} />

      <div className="grid gap-4 lg:grid-cols-3">
        <div className="min-w-0 space-y-4 lg:col-span-2">
          <Card title="Description">
            <Markdown text={task.description || "No description."} testId="task-description" />
          </Card>
          <Card title="Submit a model">
            {!user ? (
              <p className="text-sm">
                <Link href={`/signin?next=${encodeURIComponent(`/tasks/${task.slug}`)}`} className="text-indigo-700 underline">
                  Sign in
                </Link>{" "}
                to submit.
              </p>
            ) : !user.team ? (
              <NoTeamNotice className="text-sm" />
            ) : task.phase !== "open" ? (
              <p className="text-sm">This task {task.phase === "upcoming" ? "is not open yet" : "is closed"}: it takes no submissions now.</p>
            ) : (
              <div className="space-y-3">
                {quota && (
                  <div className="space-y-1 text-sm text-slate-700">
                    <p data-testid="quota">
                      Your team has <strong>{quota.remaining}</strong> of {quota.limit} submissions left today; the count resets at{" "}
                      <LocalTime iso={quota.resetsAt} />.
                      {quota.usedInOtherTeams > 0 && (
                        <span data-testid="quota-other-teams">
                          {" "}
                          {quota.usedInOtherTeams} of the {quota.used} used were made today by your members while in another team: they count here too.
                        </span>
                      )}
                      {quota.remaining === 0 && <strong className="text-red-800"> No submissions left: the form opens again at the reset.</strong>}
                    </p>
                    <p className="text-xs text-slate-600" data-testid="quota-rules">
                      A model that fails through your own fault (it does not load, has the wrong shape or runs out of time) uses a submission. A failure on
                      our side, or a submission an organiser cancels, does not. What a member submitted today in another team counts against this team too.
                    </p>
                  </div>
                )}
                <UploadForm taskSlug={task.slug} maxModelBytes={task.maxModelBytes} quotaRemaining={quota?.remaining ?? null} />
              </div>
            )}
          </Card>
          <Card title="From the command line">
            <p className="mb-2 text-sm text-slate-700">
              Create a token on the{" "}
              <Link href="/tokens" className="text-indigo-700 underline">
                tokens page
              </Link>
              , then:
            </p>
            <CurlCommands baseUrl={baseUrl} taskSlug={task.slug} latestSubmissionId={latestId} />
          </Card>
        </div>

        <div className="min-w-0 space-y-4">
          <Card title="Model signature">
            <dl className="space-y-2 text-sm">
              <dt className="font-medium">Inputs</dt>
              {task.inputSpec.map((spec) => (
                <dd key={spec.name} className="font-mono text-xs break-all">
                  {formatSpec(spec)}
                </dd>
              ))}
              <dt className="font-medium">Outputs</dt>
              {task.outputSpec.map((spec) => (
                <dd key={spec.name} className="font-mono text-xs break-all">
                  {formatSpec(spec)}
                </dd>
              ))}
            </dl>
            <p className="mt-2 text-xs text-slate-500">N is the batch dimension: leave it dynamic in the exported model.</p>
          </Card>
          <Card title="Scoring">
            <ul className="space-y-1 text-sm">
              <li>
                Ranked by <strong>{task.rankMetric}</strong>, {task.direction === "MAXIMIZE" ? "higher is better" : "lower is better"}
              </li>
              <li>Also computed: {task.metrics.filter((metric) => metric !== task.rankMetric).join(", ") || "nothing else"}</li>
              {task.metrics.includes("top_k") && <li>top-k uses k = {task.topK}</li>}
              <li>
                Public leaderboard: {Math.round(task.publicFraction * 100)}% of the test rows; the rest decide the private one{task.privateRevealedAt ? " (revealed)" : ", revealed at the end"}.
              </li>
              <li data-testid="finals-rule">
                Private leaderboard: the best of your team&apos;s {task.finalSubmissionLimit} final submission{task.finalSubmissionLimit === 1 ? "" : "s"}, chosen on your submissions page
                before the close (none chosen: your {task.finalSubmissionLimit} best public ones)
              </li>
              {task.publicFreezeMinutes > 0 && (
                <li>Public leaderboard frozen for the last {task.publicFreezeMinutes} minutes: later scores show once the private leaderboard is revealed</li>
              )}
              <li>Equal scores (to 9 decimal places) share a rank; the earlier submission is listed first</li>
            </ul>
          </Card>
          <Card title="Limits">
            <ul className="space-y-1 text-sm">
              <li>Model size: up to {formatBytes(task.maxModelBytes)}</li>
              <li>
                Submissions: {task.dailySubmissionLimit} per team per day (the day starts at 00:00 UTC); failures on our side are not counted, and what a
                member submitted today in another team counts too
              </li>
              <li data-testid="team-merge-deadline">
                Team merge deadline: <LocalTime iso={task.teamMerge.closesAt} />
                {task.teamMerge.byDefault ? " (when the task opens)" : ""}. From then until the close, whoever has submitted, or whose team has, cannot join,
                leave or create a team (
                <Link href="/team" className="text-indigo-700 underline">
                  team rules
                </Link>
                ).
              </li>
              <li>Evaluation time: {formatDuration(task.evalTimeoutMs)}</li>
              <li>Evaluation memory: {task.evalMemoryMb} MB</li>
            </ul>
          </Card>
          {task.hasTrainingData && (
            <Card title="Training data">
              <a href={`/api/tasks/${task.slug}/training-data`} className="text-sm text-indigo-700 underline" download data-testid="training-data-link">
                Download {task.slug}-train.npz
              </a>
            </Card>
          )}
        </div>
      </div>
    </div>
  );
}
