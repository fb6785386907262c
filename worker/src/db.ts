import { createDb as createPrismaDb, type Db } from "@goat/contracts/db";

export type { Db };

/** One Prisma client per worker process: few connections, as it runs one evaluation at a time. */
export function createDb(databaseUrl: string): Db {
  return createPrismaDb(databaseUrl, 4);
}
