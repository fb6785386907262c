import type { Logger } from "@goat/contracts/logger";
import { PlatformFault, type PlatformFaultCode } from "./faults";

/**
 * A worker whose sandbox processes cannot start stops taking jobs until one starts again.
 *
 * Such a fault is the host's (a broken deployment, a `node` or onnxruntime that no longer loads, a
 * full disk, a launcher killed again and again): it fails every evaluation within milliseconds. The
 * job is retried, but the broken worker is then the idle one, so it takes the retry too, and the
 * next job: one such worker among seven spent every queued submission's attempts in seconds
 * (EVALUATION_JOB_OPTIONS: 4 attempts, 2 + 4 + 8 s of backoff) and failed them all as the
 * platform's. After `faultLimit` evaluations in a row that failed so, the worker pauses its queue
 * consumer (the other workers take the jobs), says so (its Worker row PAUSED, its health 503, a
 * metric), and checks its sandbox with backoff (`checkSandbox`: start a sandbox process and wait
 * until it is ready); the first check that passes resumes it.
 *
 * A host whose GPU or runtime fails a known-good model (`HOST_FAULT`: sandbox/host-check.ts) fails
 * every evaluation the same way, and counts too; while it does, the check runs that model as well.
 *
 * Faults a model could cause never count: a participant's fault, and every platform fault that is
 * not a sandbox start's (a model's process is started before the model is handed to it) or a
 * known-good model's (run in a fresh process after the model's), so no upload can pause a worker.
 */
export const SANDBOX_START_FAULTS: ReadonlySet<PlatformFaultCode> = new Set(["SANDBOX_START_FAILED", "SANDBOX_START_TIMEOUT", "SANDBOX_LOST", "HOST_FAULT"]);

export interface SandboxBreakerOptions {
  /** Evaluations in a row that failed to start their sandbox before the worker pauses. */
  faultLimit: number;
  /** The first check this long after pausing; then each wait doubles, up to maxCheckDelayMs. */
  firstCheckDelayMs: number;
  maxCheckDelayMs: number;
  /** Starts a sandbox process and waits until it is ready; rejects as an evaluation's start would. */
  checkSandbox(): Promise<void>;
  /** Stop and restart taking jobs (the queue consumer's; the job in hand is not waited for). */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Told when the worker pauses (with why) and when it resumes (undefined). */
  onChange?(pausedFor: string | undefined): void;
  log: Logger;
}

export class SandboxBreaker {
  private faultsInARow = 0;
  private pausedFor: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: SandboxBreakerOptions) {}

  /** Why the worker takes no jobs, or undefined while it does. */
  get pauseReason(): string | undefined {
    return this.pausedFor;
  }

  /** An evaluation whose sandbox started (scored, or failed for its model). */
  sandboxStarted(): void {
    this.faultsInARow = 0;
  }

  /** An evaluation failed: counted when its sandbox could not start or a known-good model failed after it; may pause the worker. */
  evaluationFailed(error: unknown): void {
    if (!(error instanceof PlatformFault) || !SANDBOX_START_FAULTS.has(error.code)) return;
    this.faultsInARow++;
    if (this.faultsInARow < this.opts.faultLimit || this.pausedFor !== undefined || this.closed) return;
    const what = error.code === "HOST_FAULT" ? "failed a known-good model after the model's" : "could not start a sandbox process";
    this.pausedFor = `${this.faultsInARow} evaluations in a row ${what} (last: ${error.code})`;
    this.opts.log.error({ code: error.code, err: error }, `pausing: ${this.pausedFor}; checking the sandbox in ${this.opts.firstCheckDelayMs} ms`);
    this.opts.onChange?.(this.pausedFor);
    this.opts.pause().catch((pauseError: Error) => this.opts.log.warn({ err: pauseError }, "could not pause the queue consumer"));
    this.scheduleCheck(this.opts.firstCheckDelayMs);
  }

  /** Stops the checks (the worker is closing). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private scheduleCheck(delayMs: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.check(delayMs), delayMs);
  }

  private async check(delayMs: number): Promise<void> {
    try {
      await this.opts.checkSandbox();
    } catch (error) {
      const next = Math.min(delayMs * 2, this.opts.maxCheckDelayMs);
      this.opts.log.warn({ err: error }, `sandbox check failed: still paused; the next check in ${next} ms`);
      this.scheduleCheck(next);
      return;
    }
    if (this.closed) return;
    this.faultsInARow = 0;
    this.pausedFor = undefined;
    this.opts.log.info("sandbox check passed: taking jobs again");
    this.opts.onChange?.(undefined);
    await this.opts.resume().catch((error: Error) => this.opts.log.warn({ err: error }, "could not resume the queue consumer"));
  }
}
