"use client";

import Link from "next/link";
import { useCallback, useEffect, useRef, useState } from "react";
import { SUBMISSION_STATUSES } from "@goat/contracts/submission";
import { TeamScoreChart } from "@/components/charts/team-score-chart";
import { RelativeTime } from "@/components/site/relative-time";
import { FinalToggle, FinalsSummary } from "@/components/submissions/final-selection";
import { STATUS_STYLE } from "@/components/submissions/status-style";
import type { TeamSubmissions } from "@/lib/submissions/team-list";
import { formatBytes, formatDuration, formatEta, formatPeakMemory, formatScore } from "./format";
import { SUBMISSION_ACCEPTED_EVENT } from "./upload-form";

function listHref(slug: string, status: string | null, page: number): string {
  const query = new URLSearchParams();
  if (status) query.set("status", status.toLowerCase());
  if (page > 1) query.set("page", String(page));
  const text = query.toString();
  return `/tasks/${encodeURIComponent(slug)}/submissions${text ? `?${text}` : ""}`;
}

function duration(from: string | null, to: string | null): number | null {
  return from && to ? Date.parse(to) - Date.parse(from) : null;
}

/**
 * The team's submissions, kept live: the server pushes status changes of the team's submissions
 * (and a bare "the queue moved" for other teams'), and on each this refetches the list from the
 * JSON route (same status filter and page as shown), which says only what the team may see.
 * EventSource reconnects by itself. The filter and the pages are plain links, so they work
 * without script and can be bookmarked.
 */
export function SubmissionsLive({ initial }: { initial: TeamSubmissions }) {
  const [data, setData] = useState(initial);
  const [connected, setConnected] = useState(false);
  const inFlight = useRef<Promise<void> | null>(null);
  const again = useRef(false);
  const slug = initial.task;
  const statusFilter = initial.status;
  const page = initial.page;

  const refetch = useCallback(async () => {
    // One request at a time; events that arrive meanwhile cause one more fetch afterwards.
    if (inFlight.current) {
      again.current = true;
      return;
    }
    const run = async () => {
      do {
        again.current = false;
        const response = await fetch(`/api${listHref(slug, statusFilter, page)}`, { cache: "no-store" });
        if (response.ok) setData((await response.json()) as TeamSubmissions);
      } while (again.current);
    };
    inFlight.current = run().finally(() => (inFlight.current = null));
    return inFlight.current;
  }, [slug, statusFilter, page]);

  const hasQueued = data.submissions.some((row) => row.status === "QUEUED");
  const hasQueuedRef = useRef(hasQueued);
  useEffect(() => {
    hasQueuedRef.current = hasQueued;
  }, [hasQueued]);

  useEffect(() => {
    const source = new EventSource(`/api/tasks/${encodeURIComponent(slug)}/submissions/events`);
    source.onopen = () => {
      setConnected(true);
      // Catch up on whatever changed while the stream was down.
      void refetch();
    };
    source.onerror = () => setConnected(false);
    source.addEventListener("submission", () => void refetch());
    source.addEventListener("queue", () => {
      if (hasQueuedRef.current) void refetch();
    });
    const onAccepted = () => void refetch();
    window.addEventListener(SUBMISSION_ACCEPTED_EVENT, onAccepted);
    return () => {
      source.close();
      window.removeEventListener(SUBMISSION_ACCEPTED_EVENT, onAccepted);
    };
  }, [slug, refetch]);

  const filterLink = (active: boolean) =>
    `rounded-full border px-3 py-1 text-xs font-medium ${active ? "border-indigo-600 bg-indigo-600 text-white" : "border-slate-300 bg-white text-slate-700 hover:bg-slate-50"}`;
  const allCount = Object.values(data.counts).reduce((sum, count) => sum + count, 0);

  return (
    <div className="space-y-4">
      <p className="text-xs text-slate-500" data-testid="live-indicator">
        <span className={`mr-1 inline-block h-2 w-2 rounded-full ${connected ? "bg-green-500" : "bg-slate-400"}`} />
        {connected ? "Live: updates appear as they happen" : "Connecting…"}
      </p>
      <FinalsSummary finals={data.finals} />
      <nav aria-label="Filter by status" className="flex flex-wrap gap-2" data-testid="status-filter">
        <Link href={listHref(slug, null, 1)} className={filterLink(statusFilter === null)} aria-current={statusFilter === null ? "page" : undefined}>
          All ({allCount})
        </Link>
        {SUBMISSION_STATUSES.map((status) => (
          <Link key={status} href={listHref(slug, status, 1)} className={filterLink(statusFilter === status)} aria-current={statusFilter === status ? "page" : undefined}>
            {status.toLowerCase()} ({data.counts[status]})
          </Link>
        ))}
      </nav>
      {data.submissions.length === 0 ? (
        <p className="text-sm text-slate-600">
          {statusFilter ? `No ${statusFilter.toLowerCase()} submissions.` : "Your team has no submissions for this task yet."}
        </p>
      ) : (
        <ul className="space-y-3" data-testid="submission-list">
          {data.submissions.map((row) => (
            <li key={row.id} className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" data-testid={`submission-${row.id}`} data-status={row.status}>
              <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
                <Link href={`/tasks/${encodeURIComponent(slug)}/submissions/${row.id}`} className="font-semibold text-indigo-700 underline" data-testid="submission-link">
                  #{row.id}
                </Link>
                {row.name && (
                  <span className="font-medium" data-testid="submission-name">
                    {row.name}
                  </span>
                )}
                <span className={`rounded-full px-2 py-0.5 text-xs font-medium ${STATUS_STYLE[row.status]}`} data-testid="submission-status">
                  {row.status}
                </span>
                {row.status === "QUEUED" && row.queuePosition !== null && (
                  <span className="text-sm text-slate-700" data-testid="queue-position">
                    position {row.queuePosition} in the queue
                    {row.etaSeconds !== null ? `, starts in about ${formatEta(row.etaSeconds)}` : ", start time unknown"}
                  </span>
                )}
                {row.result && (
                  <span className="text-sm" data-testid="submission-score">
                    {data.rankMetric} <strong>{formatScore(row.result.score)}</strong>
                    {row.result.privateScore !== undefined && <span className="ml-2 text-slate-600">private {formatScore(row.result.privateScore)}</span>}
                  </span>
                )}
                {row.afterFreeze && (
                  <span
                    className="rounded-full bg-sky-100 px-2 py-0.5 text-xs font-medium text-sky-900"
                    title="Made after the public leaderboard froze: only your team sees this score until the private leaderboard is revealed."
                    data-testid="after-freeze"
                  >
                    after the freeze
                  </span>
                )}
                {row.status === "SCORED" && row.result && (
                  <FinalToggle taskSlug={slug} submissionId={row.id} finals={data.finals} onChanged={(finals) => setData((current) => ({ ...current, finals }))} />
                )}
                <span className="ml-auto text-xs text-slate-500">
                  <RelativeTime iso={row.createdAt} /> by {row.submittedBy}
                </span>
              </div>
              {row.description && <p className="mt-1 line-clamp-2 text-sm text-slate-600">{row.description}</p>}
              {row.status === "QUEUED" && row.waitReasons.length > 0 && (
                <p className="mt-2 rounded bg-sky-50 p-2 text-sm text-sky-900" data-testid="wait-reasons">
                  {row.waitReasons.map((reason) => reason.message).join(" ")}
                </p>
              )}
              {row.history.length > 0 && (
                <p className="mt-2 text-xs text-slate-600" data-testid="submission-history">
                  {row.history.map((entry) => `${entry.action === "cancelled" ? "Cancelled" : "Retried"} by ${entry.by} at ${new Date(entry.at).toISOString().slice(0, 16).replace("T", " ")} UTC`).join("; ")}
                </p>
              )}
              {row.status === "FAILED" && (
                <p className="mt-2 rounded bg-red-50 p-2 text-sm text-red-900" data-testid="failure-message">
                  {row.failureKind === "PLATFORM" ? "Platform fault (does not count against your quota): " : "Your model's fault (it used one of today's submissions): "}
                  {row.message ?? "The evaluation failed."}
                </p>
              )}
              {row.result && (
                <dl className="mt-2 flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-700">
                  {Object.entries(row.result.metrics).map(([name, value]) => (
                    <div key={name}>
                      <dt className="inline text-slate-500">{name} </dt>
                      <dd className="inline font-mono">{formatScore(value as number)}</dd>
                    </div>
                  ))}
                  <div>
                    <dt className="inline text-slate-500">latency p50/p95 </dt>
                    <dd className="inline font-mono">
                      {row.result.latencyP50Ms.toFixed(1)}/{row.result.latencyP95Ms.toFixed(1)} ms
                    </dd>
                  </div>
                  <div>
                    <dt className="inline text-slate-500">parameters </dt>
                    <dd className="inline font-mono">{row.result.paramCount.toLocaleString("en")}</dd>
                  </div>
                  <div>
                    <dt className="inline text-slate-500">peak memory </dt>
                    <dd className="inline font-mono">{formatPeakMemory(row.result)}</dd>
                  </div>
                </dl>
              )}
              <p className="mt-2 flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-500">
                <span>
                  {row.fileName}, {formatBytes(row.sizeBytes)}
                </span>
                <span className="font-mono" title={row.sha256}>
                  sha256 {row.sha256.slice(0, 12)}…
                </span>
                <span>waited {formatDuration(duration(row.createdAt, row.startedAt))}</span>
                <span>evaluated in {formatDuration(duration(row.startedAt, row.finishedAt))}</span>
                {row.attempts > 1 && <span>{row.attempts} attempts</span>}
              </p>
            </li>
          ))}
        </ul>
      )}
      {data.pageCount > 1 && (
        <nav aria-label="Pages" className="flex items-center justify-between gap-3 text-sm" data-testid="pagination">
          {data.page > 1 ? (
            <Link href={listHref(slug, statusFilter, data.page - 1)} className="text-indigo-700 underline" rel="prev">
              ← Newer
            </Link>
          ) : (
            <span />
          )}
          <span className="text-slate-600">
            Page {data.page} of {data.pageCount} ({data.total} submissions)
          </span>
          {data.page < data.pageCount ? (
            <Link href={listHref(slug, statusFilter, data.page + 1)} className="text-indigo-700 underline" rel="next">
              Older →
            </Link>
          ) : (
            <span />
          )}
        </nav>
      )}
      <section className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
        <h2 className="mb-2 text-lg font-semibold">Your scores</h2>
        <TeamScoreChart points={data.scores} metric={data.rankMetric} />
      </section>
    </div>
  );
}
