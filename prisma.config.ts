// Prisma CLI configuration. The CLI runs the WebAssembly schema engine through a driver adapter
// because the native engine cannot be downloaded on our machines (see contracts/prisma/migration-adapter.ts).
// This config disables Prisma's own .env loading, so DATABASE_URL gets a default here.
import path from "node:path";
import { defineConfig } from "prisma/config";
import { MigrationAdapterFactory } from "./contracts/prisma/migration-adapter";

process.env.DATABASE_URL ??= "postgresql://postgres@127.0.0.1:5432/goat";

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: path.join("contracts", "prisma", "schema.prisma"),
  migrations: { path: path.join("contracts", "prisma", "migrations") },
  async adapter() {
    return new MigrationAdapterFactory(process.env.DATABASE_URL!);
  },
});
