import { evaluationQueue } from "@/lib/queue/evaluation-queue";

// Not in worker-process.ts: the benchmarks start workers through that file before they point the
// environment at their own database, and the queue's module reads the environment when imported.

/**
 * Integration files share one queue: jobs that earlier files queued and never ran would be taken by
 * the workers a file starts (keeping them busy, or failing on a worker built to fail). A file whose
 * workers must see only its own jobs drops them first; their submissions stay as they are in Postgres.
 */
export async function dropJobsLeftByEarlierFiles(): Promise<void> {
  await evaluationQueue().drain(true);
}
