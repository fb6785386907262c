import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import IORedis from "ioredis";
import { buildAppOnce } from "./build-app";
import pg from "pg";
import { builtWorkerArgs } from "../../support/built-worker";

/**
 * One whole platform for an e2e file, as `npm run demo` runs it: a fresh Postgres database,
 * migrated with the real Prisma CLI and seeded by the real seed script, its own Redis key prefix
 * and directories, the built web app (web-server.mjs in the standalone folder, built once per run by ./global-setup.ts) on a
 * free port, and real worker processes. E2e files run one at a time (fileParallelism: false), but
 * nothing here assumes it: ports, database, prefix and directories are all the platform's own.
 */
export const ROOT = path.resolve(__dirname, "../../..");
const ADMIN_URL = process.env.TEST_ADMIN_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

/** What the seed writes to credentials.json (tools/seed.ts). */
export interface SeedCredentials {
  task: string;
  baselineModel: string;
  baselineTestAccuracy: number;
  admin: { email: string; password: string; token: string };
  participant: { email: string; password: string; team: string; inviteCode: string; token: string };
}

export interface Platform {
  /** e.g. http://localhost:41234 (localhost, not 127.0.0.1: next-auth's cookies follow NEXTAUTH_URL) */
  baseUrl: string;
  port: number;
  /** the environment the web app and workers run with (DATABASE_URL, QUEUE_PREFIX, DATA_DIR, ...) */
  env: NodeJS.ProcessEnv;
  credentials: SeedCredentials;
  /** a fresh temporary directory holding storage/, data/, tmp/ and demo/ (baseline.onnx) */
  workDir: string;
  /** the web app's and workers' output so far, for failure messages */
  logs(): string;
  /** starts one more worker process and waits until it is ready */
  startWorker(): Promise<void>;
  /** stops every running worker (SIGTERM), e.g. to hold a submission in the queue */
  stopWorkers(): Promise<void>;
  /** SIGTERM to the web app; how it ended and how long it took (SIGKILL only after 15 s) */
  stopWeb(): Promise<ProcessEnd>;
  stop(): Promise<void>;
}

export interface PlatformOptions {
  workers?: number;
  /** added to the environment of the web app and the workers */
  extraEnv?: Record<string, string>;
}

async function adminQuery(sql: string) {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  await client.query(sql).finally(() => client.end());
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/** Polls `probe` until it returns something truthy (errors count as "not yet"). */
export async function until<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 60_000, intervalMs = 250): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

interface RunningProcess {
  name: string;
  child: ChildProcess;
  log(): string;
}

function startProcess(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): RunningProcess {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: false });
  let log = "";
  child.stdout!.on("data", (chunk) => (log += chunk));
  child.stderr!.on("data", (chunk) => (log += chunk));
  return { name, child, log: () => log };
}

interface ProcessEnd {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** from SIGTERM to the exit */
  ms: number;
}

/** SIGTERM, then SIGKILL after `killAfterMs`; how the process ended. */
async function stopProcess(running: RunningProcess, killAfterMs = 5_000): Promise<ProcessEnd> {
  const { child } = running;
  if (child.exitCode !== null || child.signalCode !== null) return { exitCode: child.exitCode, signal: child.signalCode, ms: 0 };
  const started = Date.now();
  const exited = new Promise<ProcessEnd>((resolve) => child.once("exit", (exitCode, signal) => resolve({ exitCode, signal, ms: Date.now() - started })));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
  const end = await exited;
  clearTimeout(timer);
  return end;
}

async function deleteRedisKeys(redisUrl: string, prefix: string) {
  const redis = new IORedis(redisUrl, { maxRetriesPerRequest: 2 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

export async function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const runId = randomBytes(4).toString("hex");
  const database = `goat_e2e_${runId}`;
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), `goat-e2e-${runId}-`));
  const port = await freePort();
  const baseUrl = `http://localhost:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    PORT: String(port),
    DATABASE_URL: ADMIN_URL.replace(/\/[^/]*$/, `/${database}`),
    REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379/0",
    QUEUE_PREFIX: `goate2e-${runId}`,
    STORAGE_DIR: path.join(workDir, "storage"),
    DATA_DIR: path.join(workDir, "data"),
    UPLOAD_TMP_DIR: path.join(workDir, "tmp"),
    DEMO_DIR: path.join(workDir, "demo"),
    NEXTAUTH_SECRET: randomBytes(32).toString("base64url"),
    NEXTAUTH_URL: baseUrl,
    EXECUTION_PROVIDER: "cpu",
    ...options.extraEnv,
  };
  const processes: RunningProcess[] = [];
  const logs = () => processes.map((each) => `--- ${each.name} ---\n${each.log()}`).join("\n");

  let databaseCreated = false;
  const stop = async () => {
    await Promise.all(processes.map((each) => stopProcess(each)));
    if (databaseCreated) await adminQuery(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await deleteRedisKeys(env.REDIS_URL!, env.QUEUE_PREFIX!).catch(() => undefined);
    if (!process.env.GOAT_KEEP_TEST_FILES) await fs.rm(workDir, { recursive: true, force: true });
  };

  try {
    await adminQuery(`CREATE DATABASE "${database}"`);
    databaseCreated = true;
    execFileSync("scripts/prisma", ["migrate", "deploy"], { cwd: ROOT, env, stdio: "pipe" });
    execFileSync("npm", ["run", "--silent", "db:seed"], { cwd: ROOT, env, stdio: "pipe" });
    const credentials = JSON.parse(await fs.readFile(path.join(workDir, "demo", "credentials.json"), "utf8")) as SeedCredentials;

    // The run's own copy of the build (./build-app.ts), started as the Docker image starts it.
    const appDir = await buildAppOnce();
    const web = startProcess("web", process.execPath, [path.join(appDir, "web-server.mjs")], { ...env, HOSTNAME: "0.0.0.0" });
    processes.push(web);
    let workerCount = 0;
    const startWorker = async () => {
      const i = ++workerCount;
      const worker = startProcess(`worker-${i}`, process.execPath, builtWorkerArgs(), { ...env, WORKER_ID: `e2e-${runId}-worker-${i}` });
      processes.push(worker);
      await until(`worker ${i} to get ready`, () => {
        if (worker.child.exitCode !== null) throw new Error(`worker ${i} exited:\n${worker.log()}`);
        return worker.log().includes("ready:");
      }, 60_000);
    };
    const stopWorkers = async () => {
      await Promise.all(processes.filter((each) => each.name.startsWith("worker-")).map((each) => stopProcess(each)));
    };
    const stopWeb = () => stopProcess(web, 15_000);
    for (let i = 0; i < (options.workers ?? 1); i++) await startWorker();
    await until("the web app's health check", async () => (await fetch(`${baseUrl}/api/health`)).ok, 60_000);
    return { baseUrl, port, env, credentials, workDir, logs, startWorker, stopWorkers, stopWeb, stop };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const output = (error as { stderr?: Buffer }).stderr?.toString() ?? "";
    await stop().catch(() => undefined);
    throw new Error(`could not start the platform: ${message}\n${output}\n${logs()}`);
  }
}
