import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The worker's health endpoint, for the container's healthcheck (docker-compose.yml) and for
 * load balancers or monitors on other hosts, and its Prometheus `GET /metrics`.
 * `GET /health` (any other path answers the same) is 200
 * when the worker's Redis and Postgres connections answer, it is not shutting down and it takes
 * jobs, 503 otherwise, with the reasons as JSON: `sandbox` says why a worker whose sandbox
 * processes would not start takes none (sandbox-breaker.ts). A worker that is shutting down is healthy in the sense
 * of "doing the right thing", but it takes no more jobs; saying 503 keeps `docker compose ps`
 * and monitors truthful while it finishes its job.
 */
export interface WorkerHealth {
  status: "ok" | "unavailable";
  workerId: string;
  redis: string;
  database: string;
  /** "ok", or why the worker takes no jobs (its sandbox processes would not start). */
  sandbox: string;
  shuttingDown: boolean;
}

export interface HealthServerOptions {
  port: number;
  /** All interfaces by default: the healthcheck runs inside the container, monitors outside it. */
  host?: string;
  workerId: string;
  checkConnections(): Promise<{ redis: string; database: string }>;
  isShuttingDown(): boolean;
  /** Why the worker takes no jobs for its sandbox, or undefined while it does. */
  sandboxPauseReason?(): string | undefined;
  /** A hung Postgres or Redis must not hang the healthcheck: past this, the check counts as failed. */
  timeoutMs?: number;
  /** Prometheus exposition for `GET /metrics` (observability.ts); without it /metrics answers 404. */
  metrics?: { contentType: string; metrics(): Promise<string> };
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export async function workerHealth(opts: HealthServerOptions): Promise<WorkerHealth> {
  const timeoutMs = opts.timeoutMs ?? 3_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ redis: string; database: string }>((resolve) => {
    timer = setTimeout(() => resolve({ redis: `no answer within ${timeoutMs} ms`, database: `no answer within ${timeoutMs} ms` }), timeoutMs);
  });
  const connections = await Promise.race([
    opts.checkConnections().catch((e: Error) => ({ redis: e.message, database: e.message })),
    timeout,
  ]).finally(() => clearTimeout(timer));
  const shuttingDown = opts.isShuttingDown();
  const sandbox = opts.sandboxPauseReason?.() ?? "ok";
  const healthy = connections.redis === "ok" && connections.database === "ok" && sandbox === "ok" && !shuttingDown;
  return { status: healthy ? "ok" : "unavailable", workerId: opts.workerId, ...connections, sandbox, shuttingDown };
}

export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const server = http.createServer((request, response) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (request.url?.split("?")[0] === "/metrics") {
      const metrics = opts.metrics;
      if (!metrics) {
        response.writeHead(404).end();
        return;
      }
      void metrics.metrics().then(
        (text) => response.writeHead(200, { "content-type": metrics.contentType }).end(request.method === "HEAD" ? undefined : text),
        () => response.writeHead(500).end(),
      );
      return;
    }
    void workerHealth(opts).then((health) => {
      response.writeHead(health.status === "ok" ? 200 : 503, { "content-type": "application/json", "cache-control": "no-store" });
      response.end(request.method === "HEAD" ? undefined : JSON.stringify(health));
    });
  });
  // Keep-alive sockets from a monitor must not hold the process open at shutdown.
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "0.0.0.0", () => resolve());
  });
  server.unref();
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
