import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import autocannon from "autocannon";
import { spread as spread3 } from "./report";

/**
 * What the HTTP benchmarks share (bench/load.bench.ts, bench/next-floor.bench.ts): a load of one URL
 * with autocannon, run after run, with the server's own CPU per answered request; a bare node:http
 * reference server; a free port. The load generator runs on the same machine as the server (say so
 * when quoting the figures).
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/**
 * An answer's bytes and headers, as `answerUrl` gave them, served by a bare node:http server in a
 * process of its own (no framework, no routing, no limit): what the machine serves at the same
 * concurrency when a request costs nothing but HTTP, the reference beside a measured route.
 */
export async function startBareServer(answerUrl: string, port: number, workDir: string): Promise<ChildProcess> {
  const answer = await fetch(answerUrl);
  const file = path.join(workDir, `bare-answer-${port}.bin`);
  await fs.writeFile(file, Buffer.from(await answer.arrayBuffer()));
  const kept = ["content-type", "etag", "cache-control", "vary", "content-security-policy", "x-content-type-options"];
  const headers = Object.fromEntries(kept.flatMap((name) => (answer.headers.has(name) ? [[name, answer.headers.get(name)!]] : [])));
  const script = `const body = require("node:fs").readFileSync(process.argv[1]); const headers = JSON.parse(process.argv[2]);
    require("node:http").createServer((request, response) => { response.writeHead(200, headers); response.end(body); })
      .listen(Number(process.argv[3]), "127.0.0.1", () => process.send("listening"));`;
  const child = spawn(process.execPath, ["-e", script, file, JSON.stringify(headers), String(port)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  await new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`the bare reference server exited (${code})`)));
  });
  return child;
}

/** CPU time (user + system) the process has used so far, in ms (/proc/PID/stat, 100 ticks a second). */
export async function cpuMs(pid: number): Promise<number> {
  const fields = (await fs.readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export interface LoadFigures {
  /** the server's CPU ms per answered request: what a request costs, whatever else the machine runs */
  cpuPerRequest: number[];
  requestsPerSecond: number[];
  p50: number[];
  p99: number[];
  errors: number;
  /** What the errors were: socket errors, timeouts and each non-2xx status, summed over the runs. */
  errorKinds: Record<string, number>;
  bytesPerResponse: number;
}

/** `runs` runs of `seconds` s of `connections` connections on `url`, after a 2 s warm-up. */
export async function load(url: string, connections: number, serverPid: number, runs: number, seconds: number, headers: Record<string, string> = {}): Promise<LoadFigures> {
  const figures: LoadFigures = { cpuPerRequest: [], requestsPerSecond: [], p50: [], p99: [], errors: 0, errorKinds: {}, bytesPerResponse: 0 };
  const count = (kind: string, n: number) => n > 0 && (figures.errorKinds[kind] = (figures.errorKinds[kind] ?? 0) + n);
  await autocannon({ url, connections: 10, duration: 2, headers }); // warm-up
  for (let run = 0; run < runs; run++) {
    const cpuBefore = await cpuMs(serverPid);
    const result = await autocannon({ url, connections, duration: seconds, timeout: 10, headers });
    figures.cpuPerRequest.push(((await cpuMs(serverPid)) - cpuBefore) / Math.max(1, result.requests.total));
    figures.requestsPerSecond.push(result.requests.average);
    figures.p50.push(result.latency.p50);
    figures.p99.push(result.latency.p99);
    figures.errors += result.errors + result.non2xx; // autocannon counts a timeout among its errors too
    count("socket errors", result.errors - result.timeouts);
    count("timeouts", result.timeouts);
    for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) if (!code.startsWith("2")) count(`HTTP ${code}`, (stats as { count: number }).count);
    figures.bytesPerResponse = result.throughput.total / Math.max(1, result.requests.total);
  }
  return figures;
}

/** min / median / max of a figure's runs, as the tables print it. */
export const spread = (values: number[], digits = 0) => {
  const s = spread3(values, digits);
  return `${s.min} / ${s.median} / ${s.max}`;
};

/** One Markdown row of a load: req/s, p50, p99, errors by kind, server CPU per request, answer size. */
export function loadRow(name: string, figures: LoadFigures): string {
  const errors = figures.errors ? ` (${Object.entries(figures.errorKinds).map(([kind, n]) => `${kind}: ${n}`).join(", ")})` : "";
  return `| ${name} | ${spread(figures.requestsPerSecond)} | ${spread(figures.p50)} | ${spread(figures.p99)} | ${figures.errors}${errors} | ${spread(figures.cpuPerRequest, 2)} | ${(figures.bytesPerResponse / 1024).toFixed(1)} KB |`;
}

export const LOAD_TABLE_HEADER = "| load | req/s | p50 ms | p99 ms | errors + timeouts + non-2xx | server CPU ms / request | response |\n| --- | --- | --- | --- | --- | --- | --- |";
