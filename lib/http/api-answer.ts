import "server-only";
import type { z } from "zod";

/**
 * Answers with JSON described by `schema`, the zod schema the OpenAPI document is generated from
 * (lib/openapi/document.ts). The answer is checked against it on the way out: a mismatch is a bug
 * in our code, so it is logged and the answer still goes out (tests validate every answer they get
 * against /api/openapi.json and fail on it).
 */
export function jsonAnswer(schema: z.ZodType, value: unknown, init?: ResponseInit): Response {
  const checked = schema.safeParse(value);
  if (!checked.success) {
    console.error(`[api] the answer does not match its documented schema: ${checked.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`);
  }
  return Response.json(value, init);
}
