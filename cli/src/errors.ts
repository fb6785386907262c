/**
 * A failure the user can act on: what went wrong (the API's own message when it sent one) and
 * what to do about it. main.ts prints both and exits with `exitCode`.
 */
export const EXIT = {
  /** submit --wait: the model was scored; any other command: it worked */
  ok: 0,
  /** the submission failed or was cancelled, or the command could not do its job */
  failed: 1,
  /** the server refused the upload at intake (not ONNX, wrong signature, quota, closed task, ...) */
  refused: 2,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly hint: string | null = null,
    readonly exitCode: number = EXIT.failed,
    readonly status: number | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = "CliError";
  }
}
