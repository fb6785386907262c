/**
 * The two ways an evaluation can fail, and who is to blame.
 *
 * - `ParticipantFault`: the model is at fault (it does not load, throws, hangs, allocates
 *   without bound, returns the wrong shape). Retrying would fail the same way, so the job
 *   fails at once; `displayMessage` is shown to the participant as it is: one plain
 *   sentence, no stack trace, no server paths.
 * - `PlatformFault`: we are at fault (a dataset is missing, a sandbox could not start,
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
  | "DATASET_UNAVAILABLE"
  | "POOL_CLOSED"
  | (string & {});

export class ParticipantFault extends Error {
  readonly kind = "participant" as const;
  readonly retryable = false;

  constructor(
    readonly code: ParticipantFaultCode,
    /** Fit to show the participant: one sentence, no stack trace, no server paths. */
    readonly displayMessage: string,
    options?: { cause?: unknown },
  ) {
    super(displayMessage, options);
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

export function isParticipantFault(e: unknown): e is ParticipantFault {
  return e instanceof ParticipantFault;
}

export function isPlatformFault(e: unknown): e is PlatformFault {
  return e instanceof PlatformFault;
}

/**
 * The first line of an error message, made fit for a participant: server paths replaced,
 * trimmed to a sane length. onnxruntime's messages carry the model's path ("Load model from
 * /srv/models/... failed") and sometimes several lines of detail; the first line says what
 * went wrong.
 */
export function participantSafeMessage(message: string, redact: readonly string[] = [], maxLength = 400): string {
  let line = (message.split(/\r?\n/).find((l) => l.trim() !== "") ?? "").trim();
  for (const secret of redact) {
    if (secret) line = line.split(secret).join("model.onnx");
  }
  if (line.length > maxLength) line = `${line.slice(0, maxLength - 1)}…`;
  return line || "unknown error";
}
