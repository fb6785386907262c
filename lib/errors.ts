import "server-only";
import { z } from "zod";
import { isDependencyOutage } from "@goat/contracts/dependency-outage";
import { log } from "./log";
import { webMetrics } from "./observability/metrics";

/**
 * The one place that turns errors into HTTP answers (after dub's lib/api/errors.ts).
 * Every error answer is `{ "error": { "code", "message", ...details } }`.
 */
export type ApiErrorCode =
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "TASK_NOT_FOUND"
  | "TASK_CLOSED"
  | "TASK_NOT_OPEN"
  | "SELECTION_CLOSED"
  | "NO_TEAM"
  | "BAD_REQUEST"
  | "CONFLICT"
  | "MISSING_FILE"
  | "PAYLOAD_TOO_LARGE"
  | "NOT_ONNX"
  | "TRUNCATED_MODEL"
  | "DECLARED_SIZE_TOO_LARGE"
  | "SIGNATURE_MISMATCH"
  | "EXTERNAL_DATA"
  | "UNSUPPORTED_OPERATOR_DOMAIN"
  | "QUOTA_EXCEEDED"
  | "TEAM_CHANGES_CLOSED"
  | "TEAM_FULL"
  | "VALIDATION_FAILED"
  | "QUEUE_UNAVAILABLE"
  | "SERVICE_UNAVAILABLE"
  | "RATE_LIMITED"
  | "INTERNAL";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const RETRY_AFTER_SECONDS = 5;

export function errorResponse(error: unknown): Response {
  if (error instanceof ApiError) {
    return Response.json(
      { error: { code: error.code, message: error.message, ...error.details } },
      { status: error.status, headers: error.headers },
    );
  }
  if (error instanceof z.ZodError) {
    return Response.json(
      {
        error: {
          code: "VALIDATION_FAILED",
          message: "The request is not valid.",
          fields: error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })),
        },
      },
      { status: 422 },
    );
  }
  if (isDependencyOutage(error) || (error instanceof Error && /timed out after \d+ ms/.test(error.message))) {
    // Postgres or Redis is down or restarting: a retry shortly will work (pg and ioredis reconnect).
    webMetrics().dependencyOutages.inc();
    log.warn({ err: error }, "answered 503: a dependency is unavailable");
    return Response.json(
      { error: { code: "SERVICE_UNAVAILABLE", message: "The service is briefly unavailable (a database or queue is restarting). Please retry in a few seconds." } },
      { status: 503, headers: { "Retry-After": String(RETRY_AFTER_SECONDS) } },
    );
  }
  log.error({ err: error }, "unexpected error");
  return Response.json({ error: { code: "INTERNAL", message: "Something went wrong on our side. Please try again." } }, { status: 500 });
}

/** Wraps a route handler so every thrown error becomes the JSON error answer. */
export function withErrors<Args extends unknown[]>(handler: (...args: Args) => Promise<Response>) {
  return async (...args: Args): Promise<Response> => {
    try {
      return await handler(...args);
    } catch (error) {
      return errorResponse(error);
    }
  };
}
