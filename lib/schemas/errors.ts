import { z } from "zod";

/** Every error answer: `{ "error": { "code", "message", ...details } }` (lib/errors.ts builds it). */
export const apiErrorSchema = z
  .object({
    error: z.looseObject({
      code: z.string().meta({ description: "stable, machine-readable, e.g. TASK_NOT_FOUND, SIGNATURE_MISMATCH, QUOTA_EXCEEDED" }),
      message: z.string().meta({ description: "what is wrong and what was expected, fit to show a person" }),
    }),
  })
  .meta({ id: "Error" });
