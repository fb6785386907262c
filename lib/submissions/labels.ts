import "server-only";
import { z } from "zod";
import { db } from "../db";
import { ApiError } from "../errors";

/**
 * A submission's name and description: the team's own labels ("bigger MLP, lr 3e-4"), set at
 * upload (multipart fields `name` and `description`) and editable afterwards by the team.
 * Blank means "none" and is stored as null.
 */
export const SUBMISSION_NAME_MAX = 100;
export const SUBMISSION_DESCRIPTION_MAX = 1000;

const blankIsNull = (value: string) => (value === "" ? null : value);

export const submissionLabelSchema = z.object({
  name: z
    .string()
    .trim()
    .max(SUBMISSION_NAME_MAX, `The name may be at most ${SUBMISSION_NAME_MAX} characters.`)
    .transform(blankIsNull)
    .optional(),
  description: z
    .string()
    .trim()
    .max(SUBMISSION_DESCRIPTION_MAX, `The description may be at most ${SUBMISSION_DESCRIPTION_MAX} characters.`)
    .transform(blankIsNull)
    .optional(),
});

export interface SubmissionLabels {
  name: string | null;
  description: string | null;
}

/** Parses the labels or answers 422 VALIDATION_FAILED naming each field that is wrong. */
export function parseSubmissionLabels(input: { name?: unknown; description?: unknown }): SubmissionLabels {
  const parsed = submissionLabelSchema.safeParse({
    name: typeof input.name === "string" ? input.name : undefined,
    description: typeof input.description === "string" ? input.description : undefined,
  });
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
    throw new ApiError(422, "VALIDATION_FAILED", fields.map((field) => field.message).join(" "), { fields });
  }
  return { name: parsed.data.name ?? null, description: parsed.data.description ?? null };
}

/**
 * Renames or re-describes one of the team's submissions; a field left out stays as it is. Another
 * team's submission (or one of another task) is a 404, as on the status route: its existence is
 * not disclosed.
 */
export async function updateSubmissionLabels(
  caller: { teamId: number | null },
  taskSlug: string,
  submissionId: number,
  input: { name?: unknown; description?: unknown },
): Promise<SubmissionLabels> {
  const notFound = new ApiError(404, "NOT_FOUND", `There is no submission ${submissionId} of your team for task "${taskSlug}".`);
  if (!Number.isSafeInteger(submissionId) || submissionId <= 0 || caller.teamId === null) throw notFound;
  const parsed = parseSubmissionLabels(input);
  const data: Partial<SubmissionLabels> = {};
  if (input.name !== undefined) data.name = parsed.name;
  if (input.description !== undefined) data.description = parsed.description;
  const updated = await db.submission.updateMany({ where: { id: submissionId, teamId: caller.teamId, task: { slug: taskSlug } }, data });
  if (updated.count === 0) throw notFound;
  const row = await db.submission.findUniqueOrThrow({ where: { id: submissionId }, select: { name: true, description: true } });
  return { name: row.name, description: row.description };
}
