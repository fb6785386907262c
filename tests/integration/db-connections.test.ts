import { afterAll, describe, expect, it } from "vitest";
import { IDLE_CONNECTION_MS } from "@goat/contracts/db";
import { createDb } from "../../worker/src/db";

/**
 * The database connections web and worker share (contracts/src/db.ts) stay open through an idle
 * spell longer than node-postgres's default of 10 s, so the next evaluation after a lull does not
 * connect again and pay each connection's first call of the leaderboard functions (npm run bench,
 * measure (e)). Postgres says which backend answered: the same one before and after the lull.
 */
const LULL_MS = 11_000; // past node-postgres's default idle timeout of 10 s

describe("database connections", () => {
  const db = createDb(process.env.DATABASE_URL!);
  afterAll(() => db.$disconnect());

  it("keeps an idle connection through a lull of the queue", { timeout: LULL_MS + 10_000 }, async () => {
    expect(IDLE_CONNECTION_MS).toBeGreaterThan(LULL_MS);
    const backend = async () => (await db.$queryRaw<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`)[0].pid;
    const before = await backend();
    await new Promise((resolve) => setTimeout(resolve, LULL_MS));
    expect(await backend()).toBe(before);
  });
});
