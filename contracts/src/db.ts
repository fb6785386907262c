import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "../prisma/generated/client";

/**
 * The database, as web and worker both use it. This package owns the Prisma schema, its migrations
 * (contracts/prisma/) and the generated client (contracts/prisma/generated/, made by `scripts/prisma
 * generate`); nothing outside it imports the generated files: they come from here, with the
 * domain's enums and model types.
 */
export * from "../prisma/generated/client";

export type Db = PrismaClient & {
  /**
   * The client's own node-postgres pool (the same connections, the same limit), for the statements
   * on every evaluation's path, where Prisma's raw-query layer costs more than the statement: ~0.4
   * ms of this thread per call, ~1.2 ms more for 20 KB of parameters (measured on the CI machine:
   * 1.7 ms against 0.47 through the pool). The worker's claim and result write use it; everything
   * else goes through Prisma.
   */
  readonly pool: pg.Pool;
};

/**
 * How long an idle connection stays open. node-postgres closes one after 10 s by default; a worker
 * between evaluations or a quiet web app then connects again for its next query and pays each
 * connection's first call of the leaderboard functions (PL/pgSQL compiles and plans them per
 * connection: ~40 ms for `leaderboard_refresh` on the 2-core CI machine) inside a team's wait:
 * `npm run bench`, measure (e). Five minutes keeps them through the lulls of an event; a connection
 * that breaks meanwhile (Postgres restarted) is dropped from the pool and replaced when next needed.
 */
export const IDLE_CONNECTION_MS = 5 * 60_000;

/** A Prisma client over node-postgres, with at most `poolSize` connections; `$disconnect()` ends the pool. */
export function createDb(databaseUrl: string, poolSize: number): Db {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize, idleTimeoutMillis: IDLE_CONNECTION_MS });
  // An idle connection that breaks (Postgres restarted) is dropped and replaced when next needed:
  // without a listener of its own, its error would end the process before Prisma has connected.
  pool.on("error", () => undefined);
  const client = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  return Object.assign(client, { pool });
}
