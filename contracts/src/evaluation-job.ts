import { z } from "zod";

/**
 * The evaluation queue: one BullMQ queue, one job per submission.
 * Job data carries ids only (the submission's state lives in Postgres); new fields must be
 * optional so that jobs already in Redis survive a deploy.
 */
export const EVALUATION_QUEUE = "evaluations";

export const evaluationJobSchema = z.object({
  submissionId: z.number().int().positive(),
  /** why the job was added: shown in logs and the audit trail */
  reason: z.enum(["upload", "reconcile", "retry", "rescore"]).optional(),
  /** times the worker put it back because its team was at its running limit: not attempts */
  deferrals: z.number().int().nonnegative().optional(),
});
export type EvaluationJob = z.infer<typeof evaluationJobSchema>;

/**
 * Job id derived from the submission id, so adding the same submission twice is a no-op.
 * (BullMQ refuses purely numeric custom ids, hence the prefix.)
 */
export function evaluationJobId(submissionId: number): string {
  return `submission-${submissionId}`;
}

/** Retries apply to platform faults only: participant faults fail at once (UnrecoverableError). */
export const EVALUATION_JOB_OPTIONS = {
  attempts: 4,
  backoff: { type: "exponential" as const, delay: 2_000 },
  removeOnComplete: { age: 24 * 3600, count: 5_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 5_000 },
};
