-- A worker whose sandbox processes cannot start pauses itself (worker/src/sandbox-breaker.ts): it
-- takes no jobs, so that it does not spend every queued submission's attempts in a few seconds,
-- and checks its sandbox with backoff until one starts again. The dashboard shows it as paused.
ALTER TYPE "WorkerState" ADD VALUE 'PAUSED';
