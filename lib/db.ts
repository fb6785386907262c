import "server-only";
import { createDb, type Db } from "@goat/contracts/db";
import { env } from "./env";

// One Prisma client per process, kept on globalThis so Next's dev reloads reuse it (create-t3-app).
const globalForPrisma = globalThis as unknown as { goatPrisma?: Db };

export const db: Db = globalForPrisma.goatPrisma ?? createDb(env().DATABASE_URL, 10);
globalForPrisma.goatPrisma = db;
