import "server-only";
import client from "prom-client";

/**
 * The web app's Prometheus registry (prom-client): default process metrics, and counters updated
 * where things happen (jobs added, reconciler re-adds, lost workers, dependency outages answered
 * 503). Gauges of the queue, submissions and workers are read when Prometheus scrapes
 * (lib/admin/prometheus.ts). Counters live in the process: each web replica counts its own, and
 * Prometheus sums them; they reset with a restart, which rate() and increase() handle.
 */
export interface WebMetrics {
  registry: client.Registry;
  jobsAdded: client.Counter<"reason">;
  reconcilerRequeued: client.Counter<string>;
  reconcilerRuns: client.Counter<"trigger">;
  workersLost: client.Counter<string>;
  submissionsHandedBack: client.Counter<string>;
  dependencyOutages: client.Counter<string>;
  earlyAnswers: client.Counter<"route">;
}

const globalForMetrics = globalThis as unknown as { goatWebMetrics?: WebMetrics };

export function webMetrics(): WebMetrics {
  if (globalForMetrics.goatWebMetrics) return globalForMetrics.goatWebMetrics;
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
    new client.Counter<L>({ name, help, labelNames, registers: [registry] });
  globalForMetrics.goatWebMetrics = {
    registry,
    jobsAdded: counter("goat_jobs_added_total", "Evaluation jobs added to the queue by this web process, by reason (upload, retry, rescore, reconcile).", ["reason"]),
    reconcilerRequeued: counter("goat_reconciler_requeued_total", "Submissions whose job the reconciler put back in the queue."),
    reconcilerRuns: counter("goat_reconciler_runs_total", "Reconciler passes run by this web process, by what started them (interval, redis_back, worker_online).", ["trigger"]),
    workersLost: counter("goat_workers_lost_total", "Workers found lost by the sweep (no heartbeat and no queue connection)."),
    submissionsHandedBack: counter("goat_submissions_handed_back_total", "Running submissions of lost workers handed back to the queue."),
    dependencyOutages: counter("goat_dependency_unavailable_responses_total", "Requests answered 503 because Postgres or Redis was down."),
    earlyAnswers: counter("goat_early_answers_total", "Requests the web server answered from memory before Next (lib/http/early-answers.ts), by route.", ["route"]),
  };
  return globalForMetrics.goatWebMetrics;
}
