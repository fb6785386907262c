/** Submission states and failure kinds, mirrored from the Prisma enums for code that must not import Prisma. */
export const SUBMISSION_STATUSES = ["QUEUED", "RUNNING", "SCORED", "FAILED", "CANCELLED"] as const;
export type SubmissionStatusName = (typeof SUBMISSION_STATUSES)[number];

export const FAILURE_KINDS = ["PARTICIPANT", "PLATFORM"] as const;
export type FailureKindName = (typeof FAILURE_KINDS)[number];

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
    /** job picked up to result stored */
    totalMs: number;
    /** creating the onnxruntime session */
    sessionMs: number;
    /** running every batch */
    inferenceMs: number;
    /** waiting for a sandbox process (0 when one was warm) */
    sandboxWaitMs: number;
  };
}
