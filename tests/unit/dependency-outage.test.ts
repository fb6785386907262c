import net from "node:net";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { isDependencyOutage } from "@goat/contracts/dependency-outage";
import { createLogger } from "@goat/contracts/logger";
import { startHealthServer } from "../../worker/src/health";
import { workerMetrics } from "../../worker/src/observability";
import { createOutageWait } from "../../worker/src/outage";
import { freePort } from "../chaos/support/private-services";

// What counts as "a dependency is down" decides whether the worker waits (no attempt spent) and
// whether the web app answers 503; the errors here are real ones, from a port nothing listens on.

// A port just freed: nothing listens there.
const closedPort = freePort;

async function refusedConnectError(): Promise<Error> {
  const port = await closedPort();
  return new Promise((resolve) => net.connect(port, "127.0.0.1").once("error", resolve));
}

const quiet = createLogger("worker", { test: true }).child({}, { level: "silent" });

describe("isDependencyOutage", () => {
  it("is true for a refused connection, raw or wrapped as a cause", async () => {
    const refused = await refusedConnectError();
    expect(isDependencyOutage(refused)).toBe(true);
    expect(isDependencyOutage(new Error("The stored model cannot be read", { cause: refused }))).toBe(true);
  });

  it("is true for pg's error when Postgres is not there", async () => {
    const client = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${await closedPort()}/x` });
    const error = await client.connect().then(() => null, (e: Error) => e);
    expect(error).not.toBeNull();
    expect(isDependencyOutage(error)).toBe(true);
  });

  it("is true for Postgres shutting down and Prisma's driver-adapter wrapping", () => {
    expect(isDependencyOutage(Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" }))).toBe(true);
    expect(isDependencyOutage({ name: "PrismaClientKnownRequestError", code: "P2010", meta: { driverAdapterError: { cause: { kind: "DatabaseNotReachable" } } } })).toBe(true);
  });

  it("is false for errors a retry would not fix", () => {
    expect(isDependencyOutage(new Error("The model's output has shape [3]; expected [10]"))).toBe(false);
    expect(isDependencyOutage(z.object({ a: z.string() }).safeParse({}).error)).toBe(false);
    expect(isDependencyOutage(Object.assign(new Error("duplicate key"), { code: "23505" }))).toBe(false);
    expect(isDependencyOutage(undefined)).toBe(false);
  });
});

describe("createOutageWait", () => {
  it("retries a step through an outage and returns its value once the dependency is back", async () => {
    const refused = await refusedConnectError();
    let calls = 0;
    const wait = createOutageWait({ maxWaitMs: 5_000, log: quiet, firstDelayMs: 10 });
    const value = await wait("storing the result", async () => {
      calls++;
      if (calls < 3) throw refused;
      return "stored";
    });
    expect(value).toBe("stored");
    expect(calls).toBe(3);
  });

  it("throws any other error at once, and an outage once the bound has passed", async () => {
    const wait = createOutageWait({ maxWaitMs: 60, log: quiet, firstDelayMs: 10, maxDelayMs: 20 });
    let calls = 0;
    await expect(wait("claiming", async () => {
      calls++;
      throw new Error("not an outage");
    })).rejects.toThrow("not an outage");
    expect(calls).toBe(1);
    const refused = await refusedConnectError();
    const started = Date.now();
    await expect(wait("claiming", async () => Promise.reject(refused))).rejects.toBe(refused);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe("the worker's /metrics", () => {
  it("serves prom-client's exposition on the health port, with evaluations counted as they happen", async () => {
    const metrics = workerMetrics();
    metrics.evaluations.inc({ outcome: "scored" });
    metrics.evaluationSeconds.observe(0.4);
    metrics.countSandboxKill("TIMEOUT");
    const server = await startHealthServer({
      port: 0,
      host: "127.0.0.1",
      workerId: "metrics-test",
      checkConnections: async () => ({ redis: "ok", database: "ok" }),
      isShuttingDown: () => false,
      metrics: metrics.registry,
    });
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/plain");
      const text = await response.text();
      expect(text).toMatch(/^goat_evaluations_total\{outcome="scored"\} [1-9]/m);
      expect(text).toMatch(/^goat_evaluation_duration_seconds_bucket\{le="0\.5"\} [1-9]/m);
      expect(text).toMatch(/^goat_sandbox_kills_total\{reason="timeout"\} [1-9]/m);
      expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
      expect((await fetch(`http://127.0.0.1:${server.port}/health`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
