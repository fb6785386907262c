import path from "node:path";
import { z } from "zod";
import { modelStorageEnvShape } from "./model-storage";

/**
 * The settings the web app and the worker share (one definition, documented in README.md and
 * .env.example): where Postgres, Redis, model storage and the datasets are. Each process's own
 * schema (lib/env.ts, worker/src/env.ts) spreads these and adds its own.
 */
export const platformEnvShape = {
  DATABASE_URL: z.string().default("postgresql://postgres@127.0.0.1:5432/goat"),
  REDIS_URL: z.string().default("redis://127.0.0.1:6379/0"),
  /** Prefix of every BullMQ key, so several deployments (or test runs) can share one Redis. */
  QUEUE_PREFIX: z.string().default("goat"),
  /** STORAGE_BACKEND, STORAGE_DIR and the S3_* settings (model-storage.ts) */
  ...modelStorageEnvShape,
  /** The task datasets, one folder per task and dataset version (paths.ts). */
  DATA_DIR: z.string().default(path.resolve("var/data")),
};
