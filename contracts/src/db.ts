import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../prisma/generated/client";

/**
 * The database, as web and worker both use it. This package owns the Prisma schema, its migrations
 * (contracts/prisma/) and the generated client (contracts/prisma/generated/, made by `scripts/prisma
 * generate`); nothing outside it imports the generated files: they come from here, with the
 * domain's enums and model types.
 */
export * from "../prisma/generated/client";

export type Db = PrismaClient;

/** A Prisma client over node-postgres, with at most `poolSize` connections. */
export function createDb(databaseUrl: string, poolSize: number): Db {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: poolSize }) });
}
