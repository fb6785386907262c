import { afterAll, describe, expect, it, vi } from "vitest";

// Attack: an anonymous caller reads /api/health while Postgres or Redis is down, and learns the
// driver's error text (host, port, database and user names). The answer must say only ok or
// unavailable; the reason goes to the log.
const saved = { DATABASE_URL: process.env.DATABASE_URL, REDIS_URL: process.env.REDIS_URL };
const globals = globalThis as unknown as Record<string, unknown>;
const MISSING_DATABASE = "goat_health_no_such_database";

/** The Prisma client and Redis connection are per-process singletons on globalThis: close and drop them. */
async function dropConnections() {
  await (globals.goatEvaluationQueue as { close(): Promise<void> } | undefined)?.close().catch(() => undefined);
  (globals.goatRedis as { disconnect(): void } | undefined)?.disconnect();
  await (globals.goatPrisma as { $disconnect(): Promise<void> } | undefined)?.$disconnect().catch(() => undefined);
  for (const key of ["goatPrisma", "goatRedis", "goatEvaluationQueue"]) delete globals[key];
}

/** The route, connecting with the environment the test set. */
async function freshHealthRoute() {
  await dropConnections();
  vi.resetModules();
  (await import("@/lib/env")).resetEnvForTests();
  return (await import("@/app/api/health/route")).GET;
}

afterAll(async () => {
  await dropConnections();
  Object.assign(process.env, saved);
  (await import("@/lib/env")).resetEnvForTests();
});

describe("GET /api/health for an anonymous caller", () => {
  it("answers only { status: 'ok' } while both answer", async () => {
    const GET = await freshHealthRoute();
    const response = await GET();
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("says only 'unavailable' (503) when Postgres and Redis are down, and logs the reasons", async () => {
    const logged: string[] = [];
    const spy = vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void logged.push(args.join(" ")));
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    process.env.DATABASE_URL = saved.DATABASE_URL!.replace(/\/[^/]*$/, `/${MISSING_DATABASE}`);
    // Nothing listens on port 1; ioredis keeps retrying in the background, so the ping times out.
    process.env.REDIS_URL = "redis://127.0.0.1:1/0";
    try {
      const GET = await freshHealthRoute();
      const response = await GET();
      expect(response.status).toBe(503);
      const text = await response.text();
      expect(JSON.parse(text)).toEqual({ status: "unavailable" });
      for (const internal of [MISSING_DATABASE, "127.0.0.1", "postgres", "ECONNREFUSED", "timed out"]) expect(text).not.toContain(internal);
      expect(logged.some((line) => line.includes("[health] database unavailable") && line.includes(MISSING_DATABASE))).toBe(true);
      expect(logged.some((line) => line.includes("[health] redis unavailable"))).toBe(true);
    } finally {
      spy.mockRestore();
      warn.mockRestore();
    }
  });
});
