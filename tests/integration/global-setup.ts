import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import IORedis from "ioredis";
import pg from "pg";

/**
 * One fresh Postgres database, one Redis key prefix and fresh storage/data directories per test run,
 * so runs never collide with each other or with the demo's data. Migrations are applied with the
 * real Prisma CLI (the same `migrate deploy` the start command runs).
 */
const ADMIN_URL = process.env.TEST_ADMIN_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

export default async function setup() {
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
  const database = `goat_test_${runId}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${database}"`);
  await admin.end();

  const databaseUrl = ADMIN_URL.replace(/\/[^/]*$/, `/${database}`);
  const root = await fs.mkdtemp(path.join(os.tmpdir(), `goat-test-${runId}-`));
  Object.assign(process.env, {
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379/0",
    QUEUE_PREFIX: `goattest-${runId}`,
    STORAGE_DIR: path.join(root, "storage"),
    DATA_DIR: path.join(root, "data"),
    UPLOAD_TMP_DIR: path.join(root, "tmp"),
    RECONCILE_INTERVAL_MS: "0",
    EVALUATION_BACKOFF_MS: "200",
    NEXTAUTH_SECRET: randomBytes(32).toString("base64url"),
    GOAT_TEST_ROOT: root,
  });
  execFileSync("scripts/prisma", ["migrate", "deploy"], { env: process.env, stdio: "pipe" });

  return async () => {
    const redis = new IORedis(process.env.REDIS_URL!);
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${process.env.QUEUE_PREFIX}:*`, "COUNT", 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
    await redis.quit();
    const cleanup = new pg.Client({ connectionString: ADMIN_URL });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await cleanup.end();
    if (!process.env.GOAT_KEEP_TEST_FILES) await fs.rm(root, { recursive: true, force: true });
  };
}
