import path from "node:path";
import { defineConfig } from "vitest/config";

// Benchmarks that call the web app's route handlers run under vitest, with the same module
// resolution as the integration tests (server-only, CJS interop) and the same per-run database
// and Redis prefix (tests/integration/global-setup.ts). `npm run bench:intake`.
const root = path.resolve(__dirname, "..");
const alias = { "@": root, "server-only": path.resolve(root, "node_modules/server-only/empty.js") };

export default defineConfig({
  root,
  resolve: { alias },
  test: {
    include: ["bench/**/*.bench.vitest.ts"],
    environment: "node",
    globalSetup: ["tests/integration/global-setup.ts"],
    testTimeout: 900_000,
    hookTimeout: 120_000,
  },
});
