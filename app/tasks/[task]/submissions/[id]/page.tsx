import Link from "next/link";
import { notFound } from "next/navigation";
import { CopyButton } from "@/components/site/copy-button";
import { Card } from "@/components/site/form-parts";
import { RelativeTime } from "@/components/site/relative-time";
import { SubmissionFinalCard } from "@/components/submissions/submission-final-card";
import { SubmissionLabelsForm } from "@/components/submissions/submission-labels-form";
import { SubmissionLiveRefresh } from "@/components/submissions/submission-live-refresh";
import { STATUS_STYLE } from "@/components/submissions/status-style";
import { formatBytes, formatDuration, formatPeakMemory, formatScore } from "@/components/tasks/format";
import { TaskBreadcrumb } from "@/components/tasks/task-breadcrumb";
import { requireUser } from "@/lib/auth/session";
import { ApiError } from "@/lib/errors";
import { finalSelectionForTeam } from "@/lib/leaderboard/finals";
import { isTeamSubmission, submissionStatusForCaller, type SubmissionStatusView } from "@/lib/submissions/status";
import { taskDetail } from "@/lib/tasks/catalog";

export const dynamic = "force-dynamic";

export async function generateMetadata({ params }: { params: Promise<{ task: string; id: string }> }) {
  const { task, id } = await params;
  return { title: `Submission #${id} · ${task} · MLS-GOAT` };
}

function duration(from: string | null, to: string | null): number | null {
  return from && to ? Date.parse(to) - Date.parse(from) : null;
}

async function submissionOrNotFound(user: { role: "PARTICIPANT" | "ADMIN"; team: { id: number } | null }, slug: string, id: number): Promise<SubmissionStatusView> {
  try {
    return await submissionStatusForCaller({ role: user.role, teamId: user.team?.id ?? null }, slug, id);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) notFound();
    throw error;
  }
}

function Row({ term, children }: { term: string; children: React.ReactNode }) {
  return (
    <div className="grid grid-cols-[9rem_1fr] gap-2 py-1.5 text-sm">
      <dt className="text-slate-500">{term}</dt>
      <dd className="min-w-0 break-words">{children}</dd>
    </div>
  );
}

export default async function SubmissionDetailPage({ params }: { params: Promise<{ task: string; id: string }> }) {
  const { task: slug, id } = await params;
  const user = await requireUser(`/tasks/${slug}/submissions/${id}`);
  const task = await taskDetail(slug);
  if (!task) notFound();
  const submission = await submissionOrNotFound(user, task.slug, Number(id));
  // An organiser outside the team sees it but does not relabel it, nor hear its team's events.
  const ownTeam = user.role !== "ADMIN" || (await isTeamSubmission(user.team?.id ?? null, submission.id));
  const result = submission.result;
  const finals = ownTeam && submission.status === "SCORED" && result ? await finalSelectionForTeam({ teamId: user.team!.id }, task.slug) : null;

  return (
    <div className="space-y-6">
      <div className="space-y-1">
        <TaskBreadcrumb slug={task.slug} title={task.title} />
        <p className="text-sm">
          <Link href={`/tasks/${task.slug}/submissions`} className="text-indigo-700 underline">
            All submissions
          </Link>
        </p>
        <h1 className="flex flex-wrap items-center gap-3 text-2xl font-semibold">
          <span>
            Submission #{submission.id}
            {submission.name && <span className="font-normal text-slate-600">: {submission.name}</span>}
          </span>
          <span className={`rounded-full px-2 py-0.5 text-sm font-medium ${STATUS_STYLE[submission.status]}`} data-testid="submission-status">
            {submission.status}
          </span>
        </h1>
        {ownTeam && <SubmissionLiveRefresh taskSlug={task.slug} submissionId={submission.id} status={submission.status} />}
      </div>

      {submission.status === "FAILED" && (
        <p className="rounded-md bg-red-50 p-3 text-sm text-red-900" role="alert" data-testid="failure-message">
          {submission.failureKind === "PLATFORM" ? "Platform fault (does not count against your quota): " : "The model failed (counts against your quota): "}
          {submission.message ?? "The evaluation failed."}
        </p>
      )}

      {submission.afterFreeze && (
        <p className="rounded-md bg-sky-50 p-3 text-sm text-sky-900" data-testid="after-freeze">
          Made after the public leaderboard froze: only your team sees this score until the private leaderboard is revealed.
        </p>
      )}

      {finals && <SubmissionFinalCard taskSlug={task.slug} submissionId={submission.id} initial={finals} />}

      <div className="grid gap-4 md:grid-cols-2">
        <Card title="Scores">
          {result ? (
            <dl className="divide-y divide-slate-100" data-testid="submission-metrics">
              <Row term={`${task.rankMetric} (public)`}>
                <strong className="font-mono">{formatScore(result.score)}</strong>
              </Row>
              {result.privateScore !== undefined && (
                <Row term={`${task.rankMetric} (private)`}>
                  <span className="font-mono">{formatScore(result.privateScore)}</span>
                </Row>
              )}
              {Object.entries(result.metrics).map(([name, value]) => (
                <Row key={name} term={name}>
                  <span className="font-mono">{formatScore(value as number)}</span>
                </Row>
              ))}
              <Row term="latency p50 / p95">
                <span className="font-mono">
                  {result.latencyP50Ms.toFixed(1)} / {result.latencyP95Ms.toFixed(1)} ms
                </span>
              </Row>
              <Row term="parameters">
                <span className="font-mono">{result.paramCount.toLocaleString("en")}</span>
              </Row>
              <Row term="peak memory">
                <span className="font-mono" data-testid="peak-memory">{formatPeakMemory(result)}</span>
              </Row>
            </dl>
          ) : (
            <p className="text-sm text-slate-600">
              {submission.status === "QUEUED"
                ? `Waiting: position ${submission.queuePosition ?? "?"} in the queue.`
                : submission.status === "RUNNING"
                  ? "Being evaluated now."
                  : "No scores: this submission has no result."}
            </p>
          )}
        </Card>

        <Card title="Timings">
          <dl className="divide-y divide-slate-100" data-testid="submission-timings">
            <Row term="submitted">
              <RelativeTime iso={submission.createdAt} />
            </Row>
            <Row term="waited in queue">{formatDuration(duration(submission.createdAt, submission.startedAt))}</Row>
            <Row term="evaluation">{formatDuration(duration(submission.startedAt, submission.finishedAt))}</Row>
            {result?.receipt?.timings && (
              <>
                <Row term="session creation">{formatDuration(result.receipt.timings.sessionMs)}</Row>
                <Row term="inference">{formatDuration(result.receipt.timings.inferenceMs)}</Row>
              </>
            )}
            <Row term="attempts">{submission.attempts}</Row>
          </dl>
        </Card>

        <Card title="Model file">
          <dl className="divide-y divide-slate-100">
            <Row term="file">
              {submission.fileName}, {formatBytes(submission.sizeBytes)}
            </Row>
            <Row term="sha256">
              <span className="flex flex-wrap items-center gap-2">
                <code className="break-all font-mono text-xs" data-testid="submission-sha256">
                  {submission.sha256}
                </code>
                <CopyButton text={submission.sha256} label="Copy hash" />
              </span>
            </Row>
          </dl>
          <a
            href={`/api/tasks/${encodeURIComponent(task.slug)}/submissions/${submission.id}/model`}
            className="mt-3 inline-block text-sm text-indigo-700 underline"
            data-testid="download-model"
            download
          >
            Download this model
          </a>
        </Card>

        <Card title="Name and notes">
          {ownTeam ? (
            <SubmissionLabelsForm taskSlug={task.slug} submissionId={submission.id} name={submission.name} description={submission.description} />
          ) : (
            <p className="whitespace-pre-wrap text-sm">{submission.description ?? "No description."}</p>
          )}
        </Card>
      </div>

      {result?.receipt && (
        <Card title="Evaluation receipt">
          <p className="mb-2 text-sm text-slate-600">What ran, where, on which data: keep it to reproduce the score.</p>
          {/* It scrolls sideways on a phone: focusable (and named) so a keyboard can scroll it too (axe: scrollable-region-focusable). */}
          <pre tabIndex={0} aria-label="Evaluation receipt (JSON)" className="overflow-x-auto rounded-md bg-slate-900 p-3 text-xs text-slate-100" data-testid="submission-receipt">
            {JSON.stringify(result.receipt, null, 2)}
          </pre>
        </Card>
      )}
    </div>
  );
}
