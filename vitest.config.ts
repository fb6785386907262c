import { defineConfig } from "vitest/config";
import path from "node:path";

// `server-only` resolves to its empty module under the react-server condition, as Next resolves it on
// the server; vitest's resolver does not apply that condition to dependencies, so alias it directly.
const alias = { "@": path.resolve(__dirname), "server-only": path.resolve(__dirname, "node_modules/server-only/empty.js") };

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: "unit",
          include: ["tests/unit/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        resolve: { alias },
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          environment: "node",
          globalSetup: ["tests/integration/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Integration files share one Postgres database and Redis prefix per run; run them one at a time.
          fileParallelism: false,
        },
      },
      {
        resolve: { alias },
        test: {
          // Each test performs an attack through the real route, worker or sandbox and shows it fails.
          name: "security",
          include: ["tests/security/**/*.test.ts"],
          environment: "node",
          globalSetup: ["tests/integration/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        resolve: { alias },
        test: {
          // Faults done for real (kill -9, Redis and Postgres restarts) against private instances
          // that each file starts itself (tests/chaos/support/private-services.ts).
          name: "chaos",
          include: ["tests/chaos/**/*.test.ts"],
          environment: "node",
          globalSetup: ["tests/chaos/support/global-setup.ts"],
          // About 40 s per test on an idle 2-core machine; minutes when the CPU is shared.
          testTimeout: 600_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        resolve: { alias },
        test: {
          name: "e2e",
          include: ["tests/e2e/**/*.test.ts"],
          environment: "node",
          // One `next build` per run, shared by every e2e file (tests/e2e/support/platform.ts starts the rest).
          globalSetup: ["tests/e2e/support/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
