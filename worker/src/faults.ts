import { participantMessage } from "@goat/contracts/participant-message";

/**
 * The two ways an evaluation can fail, and who is to blame.
 *
 * - `ParticipantFault`: the model is at fault (it does not load, throws, hangs, allocates
 *   without bound, returns the wrong shape). Retrying would fail the same way, so the job
 *   fails at once; `displayMessage` is shown to the participant: one sentence built from
 *   a fixed template, capped, no stack trace, no server paths, no model-controlled data beyond
 *   a bounded summary.
 * - `PlatformFault`: we are at fault (a dataset is missing or not the version it should be, a sandbox could not start,
 *   the database is down). The job is retried; the participant only sees that it is
 *   still being evaluated.
 */

export type ParticipantFaultCode =
  | "TIMEOUT"
  | "MEMORY_LIMIT"
  | "CRASHED"
  | "MODEL_LOAD_FAILED"
  | "MODEL_RUN_FAILED"
  | "WRONG_OUTPUT_ROWS"
  | "WRONG_OUTPUT"
  | (string & {});

export type PlatformFaultCode =
  | "SANDBOX_START_FAILED"
  | "SANDBOX_START_TIMEOUT"
  | "SANDBOX_PROTOCOL"
  /** the launcher of sandbox processes died (spawner.ts), and the evaluating one with it */
  | "SANDBOX_LOST"
  /** the kernel's OOM killer stopped a model that had less room than its task's memory limit (memory-cgroup.ts) */
  | "HOST_OUT_OF_MEMORY"
  /** the model ran within its time limit, but waited so long for a CPU that its evaluation went past MAX_STRETCH x the limit on the wall (own-time-deadline.ts) */
  | "HOST_OVERLOADED"
  /** a model crashed or failed on the GPU, and a known-good model then failed on this worker too (sandbox/host-check.ts) */
  | "HOST_FAULT"
  | "DATASET_UNAVAILABLE"
  /** the dataset version's files on this host are not that version (changed after the import) */
  | "DATASET_MISMATCH"
  | "POOL_CLOSED"
  | (string & {});

export class ParticipantFault extends Error {
  readonly kind = "participant" as const;
  readonly retryable = false;
  /** Capped and path-free whatever the caller passed (contracts/src/participant-message.ts). */
  readonly displayMessage: string;
  /** The raw cause (onnxruntime's own text, ...), for the worker log only: never shown. */
  readonly logDetail: string | undefined;

  constructor(
    readonly code: ParticipantFaultCode,
    /** Fit to show the participant: one sentence, no stack trace, no server paths. */
    displayMessage: string,
    options?: { cause?: unknown; logDetail?: string },
  ) {
    const shown = participantMessage(displayMessage);
    super(shown, options);
    this.displayMessage = shown;
    this.logDetail = options?.logDetail;
    this.name = "ParticipantFault";
  }
}

export class PlatformFault extends Error {
  readonly kind = "platform" as const;
  readonly retryable = true;

  constructor(
    readonly code: PlatformFaultCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "PlatformFault";
  }
}
