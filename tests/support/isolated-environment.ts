import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import IORedis from "ioredis";
import pg from "pg";

/**
 * One fresh Postgres database (migrated with the real Prisma CLI, as the start command does), one
 * Redis key prefix and fresh storage/data/upload directories, written into process.env so that the
 * app's and the worker's own configuration reads them. Used by the integration tests' global set-up
 * and by every benchmark, so runs never collide with each other or with the demo's data.
 */
export interface IsolatedEnvironment {
  runId: string;
  database: string;
  databaseUrl: string;
  queuePrefix: string;
  /** the run's scratch folder: storage/, data/, tmp/ */
  root: string;
  /** drops the database, the Redis keys under the prefix and (unless kept) the scratch folder */
  dispose(options?: { keepFiles?: boolean }): Promise<void>;
}

const ADMIN_URL = process.env.TEST_ADMIN_DATABASE_URL ?? process.env.BENCH_ADMIN_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

export async function createIsolatedEnvironment(label: string, extraEnv: Record<string, string> = {}): Promise<IsolatedEnvironment> {
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
  const database = `goat_${label}_${runId}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${database}"`);
  } finally {
    await admin.end();
  }
  const databaseUrl = ADMIN_URL.replace(/\/[^/]*$/, `/${database}`);
  const queuePrefix = `goat${label}-${runId}`;
  const root = await fs.mkdtemp(path.join(os.tmpdir(), `goat-${label}-${runId}-`));
  Object.assign(process.env, {
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.TEST_REDIS_URL ?? process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379/0",
    QUEUE_PREFIX: queuePrefix,
    STORAGE_DIR: path.join(root, "storage"),
    DATA_DIR: path.join(root, "data"),
    UPLOAD_TMP_DIR: path.join(root, "tmp"),
    RECONCILE_INTERVAL_MS: "0",
    NEXTAUTH_SECRET: randomBytes(32).toString("base64url"),
    ...extraEnv,
  });
  execFileSync("scripts/prisma", ["migrate", "deploy"], { env: process.env, stdio: "pipe" });

  return {
    runId,
    database,
    databaseUrl,
    queuePrefix,
    root,
    async dispose({ keepFiles = false } = {}) {
      const redis = new IORedis(process.env.REDIS_URL!);
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${queuePrefix}:*`, "COUNT", 1000);
        if (keys.length) await redis.del(...keys);
        cursor = next;
      } while (cursor !== "0");
      await redis.quit();
      const cleanup = new pg.Client({ connectionString: ADMIN_URL });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await cleanup.end();
      if (!keepFiles) await fs.rm(root, { recursive: true, force: true });
    },
  };
}
