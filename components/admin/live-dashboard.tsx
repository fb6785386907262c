"use client";
import { useEffect, useState } from "react";
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis, Bar, BarChart } from "recharts";
import { cancelSubmissionAction, drainWorkerAction, retrySubmissionAction, setQueuePausedAction } from "@/app/admin/actions";
import type { DashboardSnapshot } from "@/lib/admin/dashboard";
import { LocalTime, useHydrated, zoneName } from "@/components/site/local-time";
import { ScrollTable } from "@/components/site/scroll-table";
import { formatScore } from "@/components/tasks/format";
import { ActionButton, ADMIN_ACTION_DONE_EVENT } from "./action-button";

/** The dashboard's live part: polls the snapshot route every few seconds and redraws. */
const POLL_MS = 3_000;
// Each at least 3:1 against white (WCAG 2.1 AA for graphics, 1.4.11).
const COLORS = ["#2563eb", "#15803d", "#db2777", "#c2410c", "#7c3aed", "#0e7490", "#a16207", "#475569"];
const SCORED_COLOR = "#15803d";
const FAILED_COLOR = "#dc2626";

/** Chart axis labels: the reader's local clock time (the chart titles name the zone). */
const time = (iso: string, local: boolean) => (local ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : new Date(iso).toISOString().slice(11, 16));


function age(seconds: number | null): string {
  if (seconds === null) return "none";
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

const HEALTH_STYLE: Record<string, string> = {
  online: "bg-emerald-100 text-emerald-800",
  draining: "bg-amber-100 text-amber-800",
  paused: "bg-orange-100 text-orange-800",
  stopped: "bg-slate-200 text-slate-700",
  lost: "bg-red-100 text-red-800",
};

function MemoryBar({ used, total, limit }: { used: number | null; total: number | null; limit: number | null }) {
  const cap = limit ?? total;
  if (used === null || !cap) return <span className="text-xs text-slate-500">n/a</span>;
  const share = Math.min(1, used / cap);
  return (
    <div className="w-40">
      <div className="h-2 rounded bg-slate-200" role="meter" aria-valuenow={used} aria-valuemax={cap} aria-label="GPU memory">
        <div className={`h-2 rounded ${share > 0.9 ? "bg-red-500" : "bg-blue-500"}`} style={{ width: `${share * 100}%` }} />
      </div>
      <div className="text-xs text-slate-600">
        {Math.round(used)} / {Math.round(cap)} MiB {limit ? "(gpu_mem_limit)" : ""}
      </div>
    </div>
  );
}

function Tile({ label, value, testId }: { label: string; value: string | number; testId: string }) {
  return (
    <div className="rounded border border-slate-200 bg-white p-3">
      <div className="text-xs uppercase tracking-wide text-slate-500">{label}</div>
      <div className="text-2xl font-semibold" data-testid={testId}>{value}</div>
    </div>
  );
}

export function LiveDashboard({ initial }: { initial: DashboardSnapshot }) {
  const [snapshot, setSnapshot] = useState(initial);
  const [stale, setStale] = useState(false);

  useEffect(() => {
    let cancelled = false;
    const tick = async () => {
      try {
        const response = await fetch("/api/admin/dashboard", { cache: "no-store" });
        if (!response.ok) throw new Error(String(response.status));
        const next = (await response.json()) as DashboardSnapshot;
        if (!cancelled) {
          setSnapshot(next);
          setStale(false);
        }
      } catch {
        if (!cancelled) setStale(true);
      }
    };
    const timer = setInterval(tick, POLL_MS);
    const now = () => void tick();
    window.addEventListener(ADMIN_ACTION_DONE_EVENT, now);
    return () => {
      cancelled = true;
      clearInterval(timer);
      window.removeEventListener(ADMIN_ACTION_DONE_EVENT, now);
    };
  }, []);

  const { queue } = snapshot;
  const local = useHydrated();
  const zone = zoneName(local);
  // Where no worker reports a GPU, the charts show the CPU fallback figures instead of empty axes.
  const anyGpu = snapshot.workers.some((w) => w.gpu);
  const memorySeries = mergeSeries(snapshot, anyGpu ? "gpuMemUsedMb" : "memUsedMb", local);
  const utilSeries = mergeSeries(snapshot, anyGpu ? "gpuUtilPercent" : "cpuPercent", local);
  const throughput = snapshot.throughput.map((row) => ({ ...row, minute: time(row.minute, local) }));
  const workerIds = snapshot.workerSeries.map((series) => series.workerId);

  return (
    <div className="space-y-6" data-updated-at={snapshot.at}>
      <p className="text-xs text-slate-500">
        Updated <LocalTime iso={snapshot.at} withSeconds />{stale ? " (cannot reach the server; showing the last figures)" : ""}
      </p>

      <section aria-label="Queue" className="space-y-2">
        <div className="flex flex-wrap items-center gap-3">
          <h2 className="text-lg font-semibold">Queue</h2>
          <span data-testid="queue-state" className={`rounded px-2 py-0.5 text-xs ${queue.paused ? "bg-amber-100 text-amber-800" : "bg-emerald-100 text-emerald-800"}`}>
            {queue.paused ? "paused" : "running"}
          </span>
          <ActionButton action={setQueuePausedAction} fields={{ value: queue.paused ? "off" : "on" }} label={queue.paused ? "Resume queue" : "Pause queue"} />
        </div>
        <div className="grid grid-cols-2 gap-3 md:grid-cols-5">
          <Tile label="Waiting" value={queue.waiting} testId="queue-waiting" />
          <Tile label="Running" value={queue.running} testId="queue-running" />
          <Tile label="Scored (1 h)" value={queue.scoredLastHour} testId="queue-scored" />
          <Tile label="Failed (1 h)" value={queue.failedLastHour} testId="queue-failed" />
          <Tile label="Oldest waiting" value={age(queue.oldestWaitingAgeS)} testId="queue-oldest" />
        </div>
      </section>

      <section aria-label="Workers" className="space-y-2">
        <h2 className="text-lg font-semibold">Workers</h2>
        {snapshot.memoryShortfalls.length > 0 && (
          <div role="alert" data-testid="memory-shortfalls" className="rounded border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900">
            <p className="font-medium">Some tasks allow a model more memory than a worker has room for.</p>
            <p className="text-xs">A model near its limit fails there as a platform fault (HOST_OUT_OF_MEMORY, retried, no quota): give the workers more memory or lower the task&apos;s limit.</p>
            <ul className="mt-1 list-disc pl-5">
              {snapshot.memoryShortfalls.map((shortfall) => (
                <li key={`${shortfall.task}/${shortfall.workerId}`}>
                  {shortfall.task} allows {shortfall.evalMemoryMb.toLocaleString("en")} MB; {shortfall.workerId} has room for {shortfall.roomMb.toLocaleString("en")} MB
                </li>
              ))}
            </ul>
          </div>
        )}
        <ScrollTable label="Workers">
          <table className="w-full border-collapse bg-white text-sm">
            <thead>
              <tr className="border-b border-slate-200 text-left text-xs uppercase text-slate-600">
                <th className="p-2">Worker</th><th className="p-2">Status</th><th className="p-2">Job</th><th className="p-2">GPU memory</th>
                <th className="p-2">Util.</th><th className="p-2">Temp / power</th><th className="p-2">Last heartbeat</th><th className="p-2"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {snapshot.workers.length === 0 && (
                <tr><td colSpan={8} className="p-2 text-slate-500">No worker has reported yet.</td></tr>
              )}
              {snapshot.workers.map((worker) => (
                <tr key={worker.id} className="border-b border-slate-200" data-testid={`worker-${worker.id}`}>
                  <td className="p-2">
                    <div className="font-medium">{worker.id}</div>
                    <div className="text-xs text-slate-500">{worker.host} · {worker.executionProvider}{worker.gpu ? ` · ${worker.gpu.name}` : ""}</div>
                    <div className="text-xs text-slate-500" data-testid={`room-of-${worker.id}`} title="The memory a model could have here, read while the worker was idle: its container's limit less what the worker and its warm sandbox processes hold, or the host's available memory where that is less (divided among the live workers on that host without a limit of their own).">
                      room for a model: {worker.modelMemoryRoomMb === null ? "unknown" : `${worker.modelMemoryRoomMb.toLocaleString("en")} MB`}
                      {worker.modelMemoryRoomSharedBy > 1 && ` (its share: ${worker.modelMemoryRoomSharedBy} workers draw on this host's memory)`}
                    </div>
                  </td>
                  <td className="p-2">
                    <span
                      className={`rounded px-2 py-0.5 text-xs ${HEALTH_STYLE[worker.health]}`}
                      title={worker.health === "paused" ? "Its sandbox processes would not start: it takes no jobs, and checks its sandbox with backoff (see its log)." : undefined}
                    >
                      {worker.health}
                    </span>
                  </td>
                  <td className="p-2">{worker.currentSubmissionId ? `#${worker.currentSubmissionId}` : "idle"}</td>
                  <td className="p-2">
                    {worker.gpu ? (
                      <MemoryBar used={worker.gpu.memoryUsedMb} total={worker.gpu.memoryTotalMb} limit={worker.gpuMemLimitMb} />
                    ) : (
                      <span className="text-xs text-slate-500" title={worker.gpuUnavailableReason ?? ""}>
                        no GPU · <span data-testid={`cpu-of-${worker.id}`}>CPU {worker.cpu?.workerUsagePercent ?? "?"}% of {worker.cpu?.cores ?? "?"} cores (host {worker.cpu?.usagePercent ?? "?"}%)</span> · RAM {worker.cpu ? `${Math.round(worker.cpu.memoryUsedMb / 1024)}/${Math.round(worker.cpu.memoryTotalMb / 1024)} GiB` : "?"}
                      </span>
                    )}
                  </td>
                  <td className="p-2">{worker.gpu?.utilizationPercent != null ? `${worker.gpu.utilizationPercent}%` : "n/a"}</td>
                  <td className="p-2 text-xs">{worker.gpu ? `${worker.gpu.temperatureC ?? "?"} °C / ${worker.gpu.powerDrawW ?? "?"} W` : "n/a"}</td>
                  <td className="p-2 text-xs"><LocalTime iso={worker.lastHeartbeatAt} withSeconds /></td>
                  <td className="p-2">
                    {(worker.health === "online" || worker.health === "paused") && <ActionButton action={drainWorkerAction} fields={{ workerId: worker.id }} label="Drain" confirm={`Drain ${worker.id}? It finishes its job and stops; the web app keeps running.`} />}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollTable>
      </section>

      <section aria-label="Charts" className="grid grid-cols-1 gap-4 md:grid-cols-2">
        <Chart title={`Evaluations per minute (last hour, ${zone})`}>
          <BarChart data={throughput}>
            <CartesianGrid strokeDasharray="3 3" /><XAxis dataKey="minute" fontSize={11} /><YAxis allowDecimals={false} fontSize={11} /><Tooltip /><Legend />
            <Bar dataKey="scored" stackId="a" fill={SCORED_COLOR} isAnimationActive={false} />
            <Bar dataKey="failed" stackId="a" fill={FAILED_COLOR} isAnimationActive={false} />
          </BarChart>
        </Chart>
        <Chart title={`Average evaluation time (ms, ${zone})`}>
          <LineChart data={throughput}>
            <CartesianGrid strokeDasharray="3 3" /><XAxis dataKey="minute" fontSize={11} /><YAxis fontSize={11} /><Tooltip />
            {/* No line across a quiet minute: an average of nothing is not zero. */}
            <Line dataKey="avgEvalMs" stroke="#2563eb" dot isAnimationActive={false} />
          </LineChart>
        </Chart>
        <Chart title={`${anyGpu ? "GPU memory per worker (MiB)" : "Host memory used (MiB), no GPU reported"} · ${zone}`}>
          <LineChart data={memorySeries}>
            <CartesianGrid strokeDasharray="3 3" /><XAxis dataKey="t" fontSize={11} /><YAxis fontSize={11} /><Tooltip /><Legend />
            {workerIds.map((id, i) => <Line key={id} dataKey={id} stroke={COLORS[i % COLORS.length]} dot={false} isAnimationActive={false} connectNulls />)}
          </LineChart>
        </Chart>
        <Chart title={`${anyGpu ? "GPU utilisation per worker (%)" : "CPU use per worker: its own process and sandboxes (% of the host's cores), no GPU reported"} · ${zone}`}>
          <LineChart data={utilSeries}>
            <CartesianGrid strokeDasharray="3 3" /><XAxis dataKey="t" fontSize={11} /><YAxis domain={[0, 100]} fontSize={11} /><Tooltip /><Legend />
            {workerIds.map((id, i) => <Line key={id} dataKey={id} stroke={COLORS[i % COLORS.length]} dot={false} isAnimationActive={false} connectNulls />)}
          </LineChart>
        </Chart>
      </section>

      <section aria-label="Failures" className="space-y-2">
        <h2 className="text-lg font-semibold">Failures</h2>
        <p className="text-sm" data-testid="failure-counts">
          Participant faults: <strong>{snapshot.failureCounts.participant}</strong> · Platform faults: <strong>{snapshot.failureCounts.platform}</strong>
        </p>
        <div className="grid grid-cols-1 gap-4 md:grid-cols-2">
          {(["PLATFORM", "PARTICIPANT"] as const).map((kind) => (
            <div key={kind} className="min-w-0">
              <h3 className="text-sm font-medium">{kind === "PLATFORM" ? "Platform faults (ours: retry them)" : "Participant faults (the model's)"}</h3>
              <ul className="divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white text-sm">
                {snapshot.failures.filter((failure) => failure.kind === kind).map((failure) => (
                  <li key={failure.id} className="flex items-start justify-between gap-2 p-2">
                    <div className="min-w-0 break-words">
                      <div>#{failure.id} · {failure.task} · {failure.team}</div>
                      <div className="text-xs text-slate-600">{failure.message}</div>
                    </div>
                    <ActionButton action={retrySubmissionAction} fields={{ submissionId: String(failure.id) }} label="Retry" />
                  </li>
                ))}
                {snapshot.failures.every((failure) => failure.kind !== kind) && <li className="p-2 text-slate-500">None.</li>}
              </ul>
            </div>
          ))}
        </div>
      </section>

      <section aria-label="Recent submissions" className="space-y-2">
        <h2 className="text-lg font-semibold">Recent submissions</h2>
        <ScrollTable label="Recent submissions">
          <table className="w-full bg-white text-sm" data-testid="recent-submissions">
            <thead>
              <tr className="border-b border-slate-200 text-left text-xs uppercase text-slate-600">
                <th className="p-2">Id</th><th className="p-2">Task</th><th className="p-2">Team</th><th className="p-2">Status</th>
                <th className="p-2 text-right">Score (public)</th><th className="p-2">Submitted</th><th className="p-2">Worker</th><th className="p-2"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {snapshot.submissions.map((row) => (
                <tr key={row.id} className="border-b border-slate-200" data-testid={`submission-${row.id}`}>
                  <td className="p-2">#{row.id}</td><td className="p-2">{row.task}</td><td className="p-2">{row.team}{row.isReference ? " (reference)" : ""}</td>
                  <td className="p-2">{row.status}{row.failureKind ? ` (${row.failureKind.toLowerCase()})` : ""}</td>
                  <td className="p-2 text-right font-mono">{row.score === null ? "–" : <span title={row.metric}>{formatScore(row.score)}</span>}</td>
                  <td className="p-2 text-xs"><LocalTime iso={row.createdAt} /></td>
                  <td className="p-2 text-xs">{row.workerId ?? ""}</td>
                  <td className="p-2">
                    {(row.status === "QUEUED" || row.status === "RUNNING") && <ActionButton action={cancelSubmissionAction} fields={{ submissionId: String(row.id) }} label="Cancel" tone="danger" />}
                    {(row.status === "FAILED" || row.status === "CANCELLED") && <ActionButton action={retrySubmissionAction} fields={{ submissionId: String(row.id) }} label="Retry" />}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollTable>
      </section>

      <section aria-label="Audit log" className="space-y-2">
        <h2 className="text-lg font-semibold">Audit log</h2>
        <ul className="divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white text-sm" data-testid="audit-log">
          {snapshot.audit.map((entry) => (
            <li key={entry.id} className="break-words p-2"><span className="text-xs text-slate-600"><LocalTime iso={entry.at} withSeconds /></span> · {entry.actor} · <code>{entry.action}</code> · {entry.target}</li>
          ))}
          {snapshot.audit.length === 0 && <li className="p-2 text-slate-500">No control used yet.</li>}
        </ul>
      </section>
    </div>
  );
}

function Chart({ title, children }: { title: string; children: React.ReactElement }) {
  return (
    // min-w-0 and overflow-hidden: a chart in a grid cell must not widen the page on a phone.
    <figure className="min-w-0 overflow-hidden rounded-lg border border-slate-200 bg-white p-3">
      <figcaption className="mb-2 text-sm font-medium">{title}</figcaption>
      <div className="h-56"><ResponsiveContainer width="100%" height="100%">{children}</ResponsiveContainer></div>
    </figure>
  );
}

/** Worker series merged into rows keyed by time (recharts wants one row per x value). */
function mergeSeries(snapshot: DashboardSnapshot, field: "gpuMemUsedMb" | "gpuUtilPercent" | "cpuPercent" | "memUsedMb", local: boolean) {
  const rows = new Map<number, Record<string, number | string | null>>();
  for (const series of snapshot.workerSeries) {
    for (const point of series.points) {
      const t = new Date(point.at).getTime();
      const row = rows.get(t) ?? {};
      row[series.workerId] = point[field];
      rows.set(t, row);
    }
  }
  return [...rows.entries()].sort(([a], [b]) => a - b).map(([at, row]) => ({ ...row, t: local ? new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : new Date(at).toISOString().slice(11, 19) }));
}
