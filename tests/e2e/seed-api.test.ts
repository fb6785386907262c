import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import pg from "pg";

// The seed README's three curl commands, verbatim but for the port, against the real built web app,
// a real worker and a database seeded by the real seed script (as `npm run demo` does).

const ROOT = path.resolve(__dirname, "../..");
const ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres";
const runId = randomBytes(4).toString("hex");
const database = `goat_e2e_${runId}`;
const children: ChildProcess[] = [];
let workDir: string;
let port: number;
let env: NodeJS.ProcessEnv;
let token: string;

async function adminQuery(sql: string) {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  await client.query(sql).finally(() => client.end());
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function start(command: string, args: string[], name: string): { child: ChildProcess; log: () => string } {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout!.on("data", (chunk) => (log += chunk));
  child.stderr!.on("data", (chunk) => (log += chunk));
  child.on("exit", (code) => code && console.error(`${name} exited with ${code}:\n${log}`));
  children.push(child);
  return { child, log: () => log };
}

function curl(commandLine: string): { status: number; body: Record<string, unknown> } {
  // Run through a shell, exactly as a participant would paste it; -w appends the status code.
  const output = execFileSync("bash", ["-c", `${commandLine} -s -w '\\n%{http_code}'`], { cwd: workDir, encoding: "utf8" });
  const lines = output.trimEnd().split("\n");
  const status = Number(lines.pop());
  return { status, body: JSON.parse(lines.join("\n")) };
}

async function until<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 60_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), `goat-e2e-${runId}-`));
  port = await freePort();
  await adminQuery(`CREATE DATABASE "${database}"`);
  env = {
    ...process.env,
    PORT: String(port),
    DATABASE_URL: ADMIN_URL.replace(/\/[^/]*$/, `/${database}`),
    QUEUE_PREFIX: `goate2e-${runId}`,
    STORAGE_DIR: path.join(workDir, "storage"),
    DATA_DIR: path.join(workDir, "data"),
    UPLOAD_TMP_DIR: path.join(workDir, "tmp"),
    DEMO_DIR: path.join(workDir, "demo"),
    EXECUTION_PROVIDER: "cpu",
    WORKER_ID: "e2e-worker",
  };
  execFileSync("scripts/prisma", ["migrate", "deploy"], { cwd: ROOT, env, stdio: "pipe" });
  execFileSync("npm", ["run", "--silent", "db:seed"], { cwd: ROOT, env, stdio: "pipe" });
  const credentials = JSON.parse(await fs.readFile(path.join(workDir, "demo", "credentials.json"), "utf8"));
  token = credentials.participant.token;
  await fs.copyFile(path.join(workDir, "demo", "baseline.onnx"), path.join(workDir, "model.onnx"));

  if (!process.env.GOAT_E2E_SKIP_BUILD) execFileSync("npx", ["next", "build"], { cwd: ROOT, env, stdio: "pipe" });
  const web = start("npx", ["next", "start", "--port", String(port)], "web");
  start(process.execPath, ["--import", "tsx", "worker/src/main.ts"], "worker");
  await until("the web app's health check", async () => (await fetch(`http://localhost:${port}/api/health`)).ok).catch((error) => {
    throw new Error(`${error.message}\n${web.log()}`);
  });
}, 600_000);

afterAll(async () => {
  for (const child of children) child.kill("SIGTERM");
  await new Promise((resolve) => setTimeout(resolve, 1000));
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await adminQuery(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await fs.rm(workDir, { recursive: true, force: true });
});

it("the seed's curl commands work verbatim with the printed token", async () => {
  const TOKEN = token;
  const submitted = curl(`curl -X POST http://localhost:${port}/submit/task2 -H "Authorization: Bearer ${TOKEN}" -F "file=@model.onnx"`);
  expect(submitted.status).toBe(202);
  expect(submitted.body).toMatchObject({ id: 2, task: "task2", status: "QUEUED", statusUrl: "/submit/task2/status/2" });

  const queue = curl(`curl http://localhost:${port}/submit/queue/status -H "Authorization: Bearer ${TOKEN}"`);
  expect(queue.status).toBe(200);
  expect(queue.body).toHaveProperty("waiting");
  expect(queue.body).toHaveProperty("workersOnline");

  // Submission 1 is the seed's baseline, evaluated by the worker on the 2,000 hidden MNIST digits.
  const scored = await until("the baseline to be scored", () => {
    const answer = curl(`curl http://localhost:${port}/submit/task2/status/1 -H "Authorization: Bearer ${TOKEN}"`);
    return answer.body.status === "SCORED" ? answer : null;
  });
  expect(scored.status).toBe(200);
  const result = scored.body.result as { score: number; metrics: Record<string, number>; receipt: { rows: number } };
  expect(result.score).toBeGreaterThan(0.85);
  expect(Object.keys(result.metrics).sort()).toEqual(["accuracy", "macro_f1", "top_k"]);
  expect(result.receipt.rows).toBe(2000);

  const second = await until("the uploaded copy to be scored", () => {
    const answer = curl(`curl http://localhost:${port}/submit/task2/status/2 -H "Authorization: Bearer ${TOKEN}"`);
    return answer.body.status === "SCORED" ? answer : null;
  });
  expect((second.body.result as { score: number }).score).toBe(result.score);

  const board = await (await fetch(`http://localhost:${port}/api/tasks/task2/leaderboard`)).json();
  expect(board.entries).toHaveLength(1);
  expect(board.entries[0]).toMatchObject({ rank: 1, team: "Demo Team", score: result.score, submissionId: 1, entries: 2 });
}, 120_000);
