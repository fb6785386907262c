import "server-only";
import path from "node:path";
import { z } from "zod";
import { checkModelStorageEnv } from "@goat/contracts/model-storage";
import { platformEnvShape } from "@goat/contracts/platform-env";
import { EVALUATION_JOB_OPTIONS } from "@goat/contracts/evaluation-job";

/** Values shipped in .env.example and the docs: a deployment that kept one can be forged against. */
const PLACEHOLDER_SECRET = /^change-?me|^(secret|changeme|password|your[-_]?secret)$/i;
/** 32 bytes: what `openssl rand -hex 16` or `-base64 24` gives; a shorter secret can be guessed offline from one cookie. */
export const MIN_SECRET_BYTES = 32;

/** Why a secret may not be used in production, or null when it may. */
export function weakSecretReason(value: string | undefined): string | null {
  if (!value) return "is not set";
  if (PLACEHOLDER_SECRET.test(value.trim())) return "is the placeholder from .env.example";
  if (Buffer.byteLength(value, "utf8") < MIN_SECRET_BYTES) return `is shorter than ${MIN_SECRET_BYTES} bytes`;
  return null;
}

/**
 * In production the app refuses to start with a missing, short or placeholder session secret or
 * metrics token. Not while `next build` collects its pages (NEXT_PHASE): an image is built without
 * the deployment's secrets, and the server that later runs it checks them at start.
 */
function checkSecrets(values: { NODE_ENV?: string; NEXTAUTH_SECRET?: string; METRICS_TOKEN?: string }, context: z.RefinementCtx) {
  if (values.NODE_ENV !== "production" || process.env.NEXT_PHASE === "phase-production-build") return;
  const sessionSecret = weakSecretReason(values.NEXTAUTH_SECRET);
  if (sessionSecret) {
    context.addIssue({ code: "custom", path: ["NEXTAUTH_SECRET"], message: `NEXTAUTH_SECRET ${sessionSecret}: anyone could sign session cookies (e.g. an organiser's). Generate one with \`openssl rand -base64 48\`.` });
  }
  const metricsToken = values.METRICS_TOKEN ? weakSecretReason(values.METRICS_TOKEN) : null;
  if (metricsToken) {
    context.addIssue({ code: "custom", path: ["METRICS_TOKEN"], message: `METRICS_TOKEN ${metricsToken}. Generate one with \`openssl rand -hex 24\`, or leave it empty to turn /metrics off.` });
  }
}

const count = (fallback: number) => z.coerce.number().int().min(1).default(fallback);
// Whole seconds: the limiter sets Redis expiries with EX.
const seconds = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/** The web app's configuration, validated once at start-up. Documented in README.md and .env.example. */
const envSchema = z.object({
  NODE_ENV: z.string().optional(),
  NEXTAUTH_SECRET: z.string().optional(),
  METRICS_TOKEN: z.string().optional(),
  /**
   * How many reverse proxies in front of the app append to X-Forwarded-For; 0 trusts none of it
   * (lib/http/client-ip.ts). Per-IP rate limits key on the address this yields.
   */
  TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
  /**
   * Rate limits (lib/http/rate-limits.ts; README "Security"): counts per window, windows in seconds.
   * Per-IP defaults leave room for a venue whose participants share one NAT address.
   */
  RATE_LIMIT_SIGNIN_FAILURES_PER_ACCOUNT: count(10),
  RATE_LIMIT_SIGNIN_FAILURES_PER_IP: count(50),
  RATE_LIMIT_SIGNIN_WINDOW_S: seconds(900),
  RATE_LIMIT_SIGNUPS_PER_IP: count(50),
  RATE_LIMIT_SIGNUP_WINDOW_S: seconds(3600),
  RATE_LIMIT_BAD_TOKENS_PER_IP: count(30),
  RATE_LIMIT_BAD_TOKEN_WINDOW_S: seconds(600),
  RATE_LIMIT_UPLOADS_IN_FLIGHT_PER_TEAM: count(2),
  RATE_LIMIT_UPLOADS_IN_FLIGHT_PER_IP: count(8),
  RATE_LIMIT_POLLS_PER_IP: count(600),
  RATE_LIMIT_POLL_WINDOW_S: seconds(60),
  RATE_LIMIT_EVENT_STREAMS_PER_USER: count(6),
  RATE_LIMIT_EVENT_STREAMS_PER_IP: count(100),
  /** How often an open event stream re-checks its caller (token, account, team), and closes if it changed (ms). */
  EVENT_STREAM_RECHECK_MS: z.coerce.number().int().min(50).default(5_000),
  /** DATABASE_URL, REDIS_URL, QUEUE_PREFIX, model storage, DATA_DIR: shared with the worker */
  ...platformEnvShape,
  /** Where uploads are spooled while they are checked; must be on the same disk as STORAGE_DIR for a cheap move. */
  UPLOAD_TMP_DIR: z.string().default(path.resolve("var/tmp")),
  /** Largest dataset file an organiser may upload, and the most an .npz may inflate to (a zip bomb is refused). */
  DATASET_MAX_BYTES: z.coerce.number().int().positive().default(2 * 1024 ** 3),
  /** How often the reconciler re-adds QUEUED submissions that lost their job (ms); 0 turns it off. */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(0).default(60_000),
  PUBLIC_URL: z.string().optional(),
  /** Attempts for platform faults (participant faults never retry), and the first backoff delay (doubles each time). */
  EVALUATION_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(EVALUATION_JOB_OPTIONS.attempts),
  EVALUATION_BACKOFF_MS: z.coerce.number().int().min(0).default(EVALUATION_JOB_OPTIONS.backoff.delay),
  /** How often the web app looks for lost workers and hands their running submissions back (ms). */
  WORKER_SWEEP_INTERVAL_MS: z.coerce.number().int().min(500).default(5_000),
  /** how often the web app looks for tasks whose start-of-day ranks are not taken yet (lib/leaderboard/day-start.ts); 0: only on the first read */
  DAY_START_INTERVAL_MS: z.coerce.number().int().min(0).default(60_000),
  /** Webhooks may reach loopback, private and link-local addresses (a receiver on the organisers' own network; tests). */
  WEBHOOK_ALLOW_PRIVATE: z.stringbool().default(false),
  /** Attempts per webhook delivery, and the first backoff delay (doubles each time). */
  WEBHOOK_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
  WEBHOOK_BACKOFF_MS: z.coerce.number().int().min(0).default(5_000),
  /** How long a receiver may take to answer one delivery (ms). */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
}).superRefine((values, context) => {
  checkModelStorageEnv(values, context);
  checkSecrets(values, context);
});

export type WebEnv = z.infer<typeof envSchema>;

let cached: WebEnv | undefined;

export function env(): WebEnv {
  cached ??= envSchema.parse(process.env);
  return cached;
}

/** Tests change the environment between files; production never calls this. */
export function resetEnvForTests(): void {
  cached = undefined;
}

/** The settings that stop the app from starting, one line each, without their values (secrets stay out of logs). */
export function describeEnvProblems(error: unknown): string {
  if (error instanceof z.ZodError) return error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
  return error instanceof Error ? error.message : String(error);
}
