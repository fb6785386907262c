import "server-only";
import type { z } from "zod";
import { ApiError } from "@/lib/errors";

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

/** A request's JSON object body, or a 400 whose message shows `example` (what the route expects). */
export async function jsonObjectBody(request: Request, example: string): Promise<Record<string, unknown>> {
  const body = (await request.json().catch(() => null)) as unknown;
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new ApiError(400, "BAD_REQUEST", `Send JSON such as ${example}.`);
  return body as Record<string, unknown>;
}
