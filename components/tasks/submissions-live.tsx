"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import { TeamScoreChart } from "@/components/charts/team-score-chart";
import { RelativeTime } from "@/components/site/relative-time";
import type { TeamSubmissionRow, TeamSubmissions } from "@/lib/team-submissions";
import { formatBytes, formatDuration, formatEta, formatScore } from "./format";
import { SUBMISSION_ACCEPTED_EVENT } from "./upload-form";

/**
 * The team's submissions, kept live: the server pushes status changes of the team's submissions
 * (and a bare "the queue moved" for other teams'), and on each this refetches the list from the
 * JSON route, which says only what the team may see. EventSource reconnects by itself.
 */
const STATUS_STYLE: Record<TeamSubmissionRow["status"], string> = {
  QUEUED: "bg-sky-100 text-sky-800",
  RUNNING: "bg-amber-100 text-amber-900",
  SCORED: "bg-green-100 text-green-800",
  FAILED: "bg-red-100 text-red-800",
  CANCELLED: "bg-slate-200 text-slate-700",
};

function duration(from: string | null, to: string | null): number | null {
  return from && to ? Date.parse(to) - Date.parse(from) : null;
}

export function SubmissionsLive({ initial }: { initial: TeamSubmissions }) {
  const [data, setData] = useState(initial);
  const [connected, setConnected] = useState(false);
  const inFlight = useRef<Promise<void> | null>(null);
  const again = useRef(false);
  const slug = initial.task;

  const refetch = useCallback(async () => {
    // One request at a time; events that arrive meanwhile cause one more fetch afterwards.
    if (inFlight.current) {
      again.current = true;
      return;
    }
    const run = async () => {
      do {
        again.current = false;
        const response = await fetch(`/api/tasks/${encodeURIComponent(slug)}/submissions`, { cache: "no-store" });
        if (response.ok) setData((await response.json()) as TeamSubmissions);
      } while (again.current);
    };
    inFlight.current = run().finally(() => (inFlight.current = null));
    return inFlight.current;
  }, [slug]);

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

  const scored = data.submissions
    .filter((row) => row.result)
    .map((row) => ({ id: row.id, score: row.result!.score }))
    .reverse();

  return (
    <div className="space-y-4">
      <p className="text-xs text-slate-500" data-testid="live-indicator">
        <span className={`mr-1 inline-block h-2 w-2 rounded-full ${connected ? "bg-green-500" : "bg-slate-400"}`} />
        {connected ? "Live: updates appear as they happen" : "Connecting…"}
      </p>
      {data.submissions.length === 0 ? (
        <p className="text-sm text-slate-600">Your team has no submissions for this task yet.</p>
      ) : (
        <ul className="space-y-3" data-testid="submission-list">
          {data.submissions.map((row) => (
            <li key={row.id} className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" data-testid={`submission-${row.id}`} data-status={row.status}>
              <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
                <span className="font-semibold">#{row.id}</span>
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
                <span className="ml-auto text-xs text-slate-500">
                  <RelativeTime iso={row.createdAt} /> by {row.submittedBy}
                </span>
              </div>
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
                  {row.failureKind === "PLATFORM" ? "Platform fault (does not count against your quota): " : ""}
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
      <section className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
        <h2 className="mb-2 text-lg font-semibold">Your scores</h2>
        <TeamScoreChart points={scored} metric={data.rankMetric} />
      </section>
    </div>
  );
}
