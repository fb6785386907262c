import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import pg from "pg";

// The Prisma CLI runs offline through contracts/prisma/migration-adapter.ts (docs/architecture.md, "Constraints found by trying"): deploy on an empty
// database and `migrate dev` with no schema changes must both pass.

const ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres";
const database = `goat_migrations_${randomBytes(4).toString("hex")}`;
const url = ADMIN_URL.replace(/\/[^/]*$/, `/${database}`);

async function admin(sql: string) {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

function prisma(...args: string[]): string {
  return execFileSync("scripts/prisma", args, { env: { ...process.env, DATABASE_URL: url }, encoding: "utf8", stdio: "pipe" });
}

beforeAll(async () => {
  await admin(`CREATE DATABASE "${database}"`);
});

afterAll(async () => {
  await admin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
});

it("migrate deploy applies every migration to an empty database", () => {
  const output = prisma("migrate", "deploy");
  expect(output).toMatch(/All migrations have been successfully applied|migrations? (have been )?applied/i);
  expect(prisma("migrate", "status")).toMatch(/Database schema is up to date/);
});

it("migrate dev finds no schema change and leaves no shadow database behind", async () => {
  const output = prisma("migrate", "dev", "--skip-generate", "--skip-seed");
  expect(output).toMatch(/Already in sync|in sync with your schema/i);
  const shadows = await admin("SELECT datname FROM pg_database WHERE datname LIKE 'prisma_migrate_shadow%'");
  expect(shadows.rows).toEqual([]);
});
