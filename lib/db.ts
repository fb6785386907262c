import "server-only";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@/prisma/generated/client";
import { env } from "./env";

// One Prisma client per process, kept on globalThis so Next's dev reloads reuse it (create-t3-app).
const globalForPrisma = globalThis as unknown as { goatPrisma?: PrismaClient };

function createPrismaClient(): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: env().DATABASE_URL, max: 10 }) });
}

export const db: PrismaClient = globalForPrisma.goatPrisma ?? createPrismaClient();
globalForPrisma.goatPrisma = db;
