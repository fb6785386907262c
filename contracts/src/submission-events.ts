import { z } from "zod";
import { SUBMISSION_STATUSES } from "./submission";

/**
 * Status changes of submissions, published on a Redis channel by whoever changes them (the
 * worker when it claims, scores or fails one; the web app when it accepts one) and pushed to
 * browsers as server-sent events. Events carry ids and the new status only: readers fetch what
 * they may see from Postgres, which stays the source of truth.
 */
export function submissionEventsChannel(queuePrefix: string): string {
  return `${queuePrefix}:submission-events`;
}

export const submissionEventSchema = z.object({
  submissionId: z.number().int().positive(),
  taskSlug: z.string(),
  teamId: z.number().int().positive(),
  status: z.enum(SUBMISSION_STATUSES),
  at: z.string(),
});
export type SubmissionEvent = z.infer<typeof submissionEventSchema>;

export function encodeSubmissionEvent(event: SubmissionEvent): string {
  return JSON.stringify(event);
}

export function decodeSubmissionEvent(message: string): SubmissionEvent | null {
  try {
    const parsed = submissionEventSchema.safeParse(JSON.parse(message));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
