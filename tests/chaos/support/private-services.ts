import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { freePort } from "../../support/free-port";

/**
 * Private Postgres and Redis instances for fault injection: stopped, killed, flushed and restarted
 * at will, on free ports, with their data in the test's temporary folder. Never the shared
 * 127.0.0.1:5432 / 6379 that other test runs use. Debian's own binaries (postgresql-15, redis-server).
 */
const PG_BIN = process.env.CHAOS_PG_BIN ?? "/usr/lib/postgresql/15/bin";

export { freePort };

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** initdb refuses to run as root: as root, the server runs as the `postgres` user, in a folder it owns. */
function asPostgresUser(binary: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", binary, ...args]] : [binary, args];
}

export interface PrivatePostgres {
  port: number;
  /** a connection string for `database` on this instance */
  url(database: string): string;
  start(): Promise<void>;
  /** "fast" (a restart's shutdown: sessions ended) or "immediate" (a crash) */
  stop(mode?: "fast" | "immediate"): Promise<void>;
  dispose(): Promise<void>;
}

export async function startPrivatePostgres(root: string): Promise<PrivatePostgres> {
  const dir = path.join(root, "postgres");
  const data = path.join(dir, "data");
  await fs.mkdir(dir, { recursive: true });
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString());
    await fs.chown(dir, uid, gid);
    // The temporary root must be traversable by that user.
    await fs.chmod(root, 0o755);
  }
  const port = await freePort();
  const run = (binary: string, args: string[]) => {
    const [command, argv] = asPostgresUser(path.join(PG_BIN, binary), args);
    execFileSync(command, argv, { stdio: "pipe" });
  };
  run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  const instance: PrivatePostgres = {
    port,
    url: (database) => `postgresql://postgres@127.0.0.1:${port}/${database}`,
    async start() {
      run("pg_ctl", ["-D", data, "-o", options, "-l", path.join(dir, "server.log"), "-w", "-t", "60", "start"]);
      await waitForPort(port, 30_000);
    },
    async stop(mode = "fast") {
      run("pg_ctl", ["-D", data, "-m", mode, "-w", "-t", "60", "stop"]);
    },
    async dispose() {
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } catch {
        // already stopped
      }
    },
  };
  await instance.start();
  return instance;
}

export interface PrivateRedis {
  port: number;
  url: string;
  /** SIGKILL: a crash; with no persistence it comes back empty */
  kill(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

export async function startPrivateRedis(root: string): Promise<PrivateRedis> {
  const dir = path.join(root, "redis");
  await fs.mkdir(dir, { recursive: true });
  const port = await freePort();
  let child: ChildProcess | undefined;
  const instance: PrivateRedis = {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    async start() {
      child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--maxmemory-policy", "noeviction"], {
        stdio: "ignore",
      });
      await waitForPort(port, 10_000);
    },
    async kill() {
      const current = child;
      if (!current || current.exitCode !== null || current.signalCode !== null) return;
      const exited = new Promise((resolve) => current.once("exit", resolve));
      current.kill("SIGKILL");
      await exited;
    },
    async dispose() {
      await instance.kill();
    },
  };
  await instance.start();
  return instance;
}
