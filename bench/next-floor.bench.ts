// The framework's floor: `npm run bench:next-floor`. How many answers per second Next.js itself can
// give on this machine when the answer costs nothing: a constant JSON body of 100 board rows from
// an App Router route handler (what the platform's API is made of), the same from a Pages Router API
// route, and the same bytes from a bare node:http server (no framework), each at 200 connections as
// the leaderboard API's goal is measured (bench/load.bench.ts). The app is bench/next-floor/, built
// like the platform (standalone output; `next build` first unless BENCH_SKIP_BUILD=1). No route of
// the platform can be served faster through the same path than its floor. The load generator runs on
// the same machine as the servers (say so when quoting the figures).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { freePort, load, loadRow, LOAD_TABLE_HEADER, startBareServer } from "./support/http-load";
import { benchContext } from "./support/report";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 200);
const ROOT = path.resolve(import.meta.dirname, "..");
const APP = path.join(ROOT, "bench", "next-floor");

async function startFloorApp(port: number): Promise<ChildProcess> {
  if (process.env.BENCH_SKIP_BUILD !== "1") {
    execFileSync("npx", ["next", "build", APP], { cwd: ROOT, stdio: "pipe", env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" } });
  }
  // Traced from the repository root (Turbopack's root), the standalone server sits under its path.
  const server = path.join(APP, ".next", "standalone", path.relative(ROOT, APP), "server.js");
  const child = spawn(process.execPath, [server], { env: { ...process.env, NODE_ENV: "production", PORT: String(port), HOSTNAME: "127.0.0.1" }, stdio: ["ignore", "ignore", "inherit"] });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the floor app exited (${child.exitCode})`);
    if (await fetch(`http://127.0.0.1:${port}/api/floor`).then((response) => response.ok, () => false)) return child;
    if (Date.now() > deadline) throw new Error("the floor app did not answer within 30 s");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function main() {
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), "goat-next-floor-"));
  const children: ChildProcess[] = [];
  try {
    const appPort = await freePort();
    const app = await startFloorApp(appPort);
    children.push(app);
    const base = `http://127.0.0.1:${appPort}`;
    const appRouter = await load(`${base}/api/floor`, CONNECTIONS, app.pid!, RUNS, SECONDS);
    const pagesRouter = await load(`${base}/api/floor-pages`, CONNECTIONS, app.pid!, RUNS, SECONDS);
    const barePort = await freePort();
    const bare = await startBareServer(`${base}/api/floor`, barePort, workDir);
    children.push(bare);
    const bareNode = await load(`http://127.0.0.1:${barePort}/`, CONNECTIONS, bare.pid!, RUNS, SECONDS);
    console.log(`
Next.js floor: one constant answer (100 board rows of JSON), ${CONNECTIONS} connections, ${RUNS} runs of ${SECONDS} s each: min / median / max
${benchContext()}; servers and autocannon on the same machine.

${LOAD_TABLE_HEADER}
${loadRow("App Router route handler (Next.js, standalone server)", appRouter)}
${loadRow("Pages Router API route (Next.js, same server)", pagesRouter)}
${loadRow("bare node:http server, the same bytes (no framework)", bareNode)}
`);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
    await fs.rm(workDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
