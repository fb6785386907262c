import "server-only";
import path from "node:path";
import { z } from "zod";
import { checkModelStorageEnv, modelStorageEnvShape } from "@goat/contracts/model-storage";
import { EVALUATION_JOB_OPTIONS } from "@goat/contracts/evaluation-job";

/** The web app's configuration, validated once at start-up. Documented in README.md and .env.example. */
const envSchema = z.object({
  DATABASE_URL: z.string().default("postgresql://postgres@127.0.0.1:5432/goat"),
  REDIS_URL: z.string().default("redis://127.0.0.1:6379/0"),
  /** Prefix of every BullMQ key, so several deployments (or test runs) can share one Redis. */
  QUEUE_PREFIX: z.string().default("goat"),
  /** STORAGE_BACKEND, STORAGE_DIR and the S3_* settings (contracts/src/model-storage.ts) */
  ...modelStorageEnvShape,
  DATA_DIR: z.string().default(path.resolve("var/data")),
  /** Where uploads are spooled while they are checked; must be on the same disk as STORAGE_DIR for a cheap move. */
  UPLOAD_TMP_DIR: z.string().default(path.resolve("var/tmp")),
  /** How often the reconciler re-adds QUEUED submissions that lost their job (ms); 0 turns it off. */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(0).default(60_000),
  PUBLIC_URL: z.string().optional(),
  /** Attempts for platform faults (participant faults never retry), and the first backoff delay (doubles each time). */
  EVALUATION_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(EVALUATION_JOB_OPTIONS.attempts),
  EVALUATION_BACKOFF_MS: z.coerce.number().int().min(0).default(EVALUATION_JOB_OPTIONS.backoff.delay),
  /** How often the web app looks for lost workers and hands their running submissions back (ms). */
  WORKER_SWEEP_INTERVAL_MS: z.coerce.number().int().min(500).default(5_000),
  /** Webhooks may reach loopback, private and link-local addresses (a receiver on the organisers' own network; tests). */
  WEBHOOK_ALLOW_PRIVATE: z.stringbool().default(false),
  /** Attempts per webhook delivery, and the first backoff delay (doubles each time). */
  WEBHOOK_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
  WEBHOOK_BACKOFF_MS: z.coerce.number().int().min(0).default(5_000),
  /** How long a receiver may take to answer one delivery (ms). */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
}).superRefine(checkModelStorageEnv);

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
