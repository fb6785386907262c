/**
 * The submission states, mirrored from the Prisma enum `SubmissionStatus` for code that must not
 * import Prisma (the event schema, the API's zod schemas). tests/unit/submission-statuses.test.ts
 * keeps the two equal.
 */
export const SUBMISSION_STATUSES = ["QUEUED", "RUNNING", "SCORED", "FAILED", "CANCELLED"] as const;

/** What a result records about how it was computed, so a score can be reproduced and trusted. */
export interface EvaluationReceipt {
  modelSha256: string;
  onnxruntimeVersion: string;
  executionProvider: "cuda" | "cpu";
  device: string;
  workerId: string;
  batchSize: number;
  rows: number;
  datasetVersion: string | null;
  timings: {
    /** claim to the result computed: fetching the model, the sandbox, checks, metrics and their intervals; not the result's write */
    totalMs: number;
    /** creating the onnxruntime session */
    sessionMs: number;
    /** running every batch */
    inferenceMs: number;
    /** waiting for a sandbox process (0 when one was warm) */
    sandboxWaitMs: number;
  };
}
