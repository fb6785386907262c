import { setTimeout as sleep } from "node:timers/promises";
import { isDependencyOutage } from "@goat/contracts/dependency-outage";
import type { Logger } from "@goat/contracts/logger";

/**
 * Waits out a dependency outage (Postgres restarting, Redis or model storage unreachable) inside
 * one evaluation attempt: the step is retried with backoff until the dependency answers or
 * `maxWaitMs` has passed. Retrying the whole job instead would spend the submission's attempts
 * while the database is down (2 + 4 + 8 s of backoff is shorter than a restart), and would
 * recompute a result that is already in hand. Meanwhile BullMQ keeps renewing the job's lock, so no
 * other worker takes it. Any other error is thrown at once.
 */
export type OutageWait = <T>(what: string, step: () => Promise<T>) => Promise<T>;

export function createOutageWait(opts: { maxWaitMs: number; log: Logger; firstDelayMs?: number; maxDelayMs?: number }): OutageWait {
  const firstDelayMs = opts.firstDelayMs ?? 250;
  const maxDelayMs = opts.maxDelayMs ?? 1_000;
  return async (what, step) => {
    const deadline = Date.now() + opts.maxWaitMs;
    let delay = firstDelayMs;
    let downSince: number | undefined;
    for (;;) {
      try {
        const value = await step();
        if (downSince !== undefined) opts.log.info({ durationMs: Date.now() - downSince }, `${what}: the dependency is back`);
        return value;
      } catch (error) {
        if (!isDependencyOutage(error) || Date.now() + delay > deadline) throw error;
        if (downSince === undefined) {
          downSince = Date.now();
          opts.log.warn({ err: error }, `${what}: a dependency is down; waiting for it (at most ${opts.maxWaitMs} ms)`);
        }
        await sleep(delay);
        delay = Math.min(delay * 2, maxDelayMs);
      }
    }
  };
}
