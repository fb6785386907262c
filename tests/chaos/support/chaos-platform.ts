import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { startWorker, type WorkerProcess } from "../../integration/support/worker-process";
import { startPrivatePostgres, startPrivateRedis, type PrivatePostgres, type PrivateRedis } from "./private-services";

/**
 * The whole platform on private services: Postgres and Redis of its own (private-services.ts), the
 * web side in this process (the real route handlers, the reconciler and the lost-worker sweep, as
 * instrumentation.ts starts them), and real worker processes with the production lock settings.
 * The web modules are imported only after the environment points at the private services.
 */
export async function startChaosPlatform() {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "goat-chaos-"));
  const postgres = await startPrivatePostgres(root);
  const redis = await startPrivateRedis(root);
  const admin = new pg.Client({ connectionString: postgres.url("postgres") });
  await admin.connect();
  await admin.query(`CREATE DATABASE goat_chaos`);
  await admin.end();
  Object.assign(process.env, {
    DATABASE_URL: postgres.url("goat_chaos"),
    REDIS_URL: redis.url,
    QUEUE_PREFIX: "goatchaos",
    STORAGE_BACKEND: "directory",
    STORAGE_DIR: path.join(root, "storage"),
    DATA_DIR: path.join(root, "data"),
    UPLOAD_TMP_DIR: path.join(root, "tmp"),
    // Production's settings: the periodic pass is the slow fallback, the triggers must do the work.
    RECONCILE_INTERVAL_MS: "60000",
    EVALUATION_BACKOFF_MS: "2000",
    NEXTAUTH_SECRET: randomBytes(32).toString("base64url"),
    GOAT_TEST_ROOT: root,
    HEARTBEAT_INTERVAL_MS: "1000",
    LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? "warn",
  });
  execFileSync("scripts/prisma", ["migrate", "deploy"], { env: process.env, stdio: "pipe" });

  const { db } = await import("@/lib/db");
  const { startReconciler } = await import("@/lib/queue/reconciler");
  const { startWorkerHealthSweep } = await import("@/lib/admin/worker-health");
  const reconciler = startReconciler(Number(process.env.RECONCILE_INTERVAL_MS));
  const stopSweep = startWorkerHealthSweep(1_000);

  const workers = new Map<string, WorkerProcess>();
  // Every process started so far, a restarted name's earlier ones included (their logs, for a failure's message).
  const everyWorker: WorkerProcess[] = [];
  const platform = {
    root,
    postgres: postgres as PrivatePostgres,
    redis: redis as PrivateRedis,
    db,
    workers,
    everyWorker,
    /** Starts (or restarts, under the same WORKER_ID) a worker with the production lock settings. */
    async startWorker(id: string): Promise<WorkerProcess> {
      // A generous start-up bound: on a shared, loaded CPU, starting Node and tsx alone took over 30 s.
      const worker = await startWorker(id, { LOCK_DURATION_MS: "8000", STALLED_INTERVAL_MS: "3000", LOG_LEVEL: "info" }, 120_000);
      workers.set(id, worker);
      everyWorker.push(worker);
      return worker;
    },
    async stop() {
      await Promise.all([...workers.values()].map((worker) => worker.stop("SIGKILL")));
      reconciler.stop();
      stopSweep();
      const { evaluationQueue } = await import("@/lib/queue/evaluation-queue");
      await evaluationQueue().close().catch(() => {});
      await db.$disconnect().catch(() => {});
      await redis.dispose();
      await postgres.dispose();
      if (!process.env.GOAT_KEEP_TEST_FILES) await fs.rm(root, { recursive: true, force: true });
    },
  };
  return platform;
}

export type ChaosPlatform = Awaited<ReturnType<typeof startChaosPlatform>>;

/** Appends a measured recovery to CHAOS_REPORT (bench/recovery.bench.ts reads it) and prints it. */
export async function reportRecovery(fault: string, seconds: number): Promise<void> {
  console.log(`[chaos] ${fault}: recovered in ${seconds.toFixed(1)} s`);
  if (process.env.CHAOS_REPORT) await fs.appendFile(process.env.CHAOS_REPORT, JSON.stringify({ fault, seconds }) + "\n");
}
