import nextCoreWebVitals from "eslint-config-next/core-web-vitals";
import nextTypeScript from "eslint-config-next/typescript";

// Prisma's generated client is reached through the shared package's entry point only.
const generatedClient = { group: ["**/prisma/generated", "**/prisma/generated/*"], message: "Import the database (client, enums, model types) from @goat/contracts/db." };
// The tests' harness and fixtures (hostile models among them) never reach shipped code, tools or ops scripts.
const testCode = { group: ["@/tests/**", "**/tests/**"], message: "Code that ships or runs in operation does not import tests/." };
const shippedCode = ["app/**/*.{ts,tsx}", "lib/**/*.ts", "components/**/*.{ts,tsx}", "worker/**/*.ts", "contracts/**/*.ts", "cli/**/*.ts", "tools/**/*.ts", "scripts/**/*.ts", "proxy.ts", "instrumentation.ts", "web-server.ts"];

const config = [
  { ignores: [".next/**", "node_modules/**", "contracts/prisma/generated/**", "worker/dist/**", "cli/dist/**", "var/**", "test-results/**", "bench/results/**", "next-env.d.ts", "bench/next-floor/.next/**", "bench/next-floor/next-env.d.ts"] },
  ...nextCoreWebVitals,
  ...nextTypeScript,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["**/*.{ts,tsx,mts}"],
    ignores: ["contracts/src/db.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [generatedClient] }] },
  },
  {
    files: shippedCode,
    ignores: ["contracts/src/db.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [generatedClient, testCode] }] },
  },
  {
    // The worker never imports the web app (docs/architecture.md, "What may import what").
    files: ["worker/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["@/lib/*", "@/app/*", "next", "next/*", "**/lib/*", "**/app/*"], message: "The worker imports only contracts." }, generatedClient, testCode] }],
    },
  },
  {
    // The web app never imports onnxruntime and never starts a BullMQ Worker.
    files: ["app/**/*.{ts,tsx}", "lib/**/*.ts", "components/**/*.{ts,tsx}"],
    rules: {
      "no-restricted-imports": ["error", { paths: [{ name: "onnxruntime-node", message: "The web app never runs models; the worker does." }, { name: "bullmq", importNames: ["Worker"], message: "The web app only produces jobs." }], patterns: [generatedClient, testCode] }],
    },
  },
  {
    // The benchmarks and the chaos suite start workers through this file before they point the
    // environment at their own Postgres and Redis: a web-app module read at import time would bind
    // to the default database instead (a CI failure and a broken `npm run bench` once).
    files: ["tests/integration/support/worker-process.ts", "tests/support/built-worker.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [{ group: ["@/lib/*", "**/lib/*"], message: "Keep the worker launcher free of web-app modules: they read the environment when imported (see tests/integration/support/shared-queue.ts)." }, generatedClient] }] },
  },
  {
    // The webhook deliveries' consumer is the one BullMQ Worker of the web app: network I/O that needs
    // the internet, which the evaluation workers' network does not reach (see the file's comment).
    files: ["lib/webhooks/consumer.ts"],
    rules: { "no-restricted-imports": ["error", { paths: [{ name: "onnxruntime-node", message: "The web app never runs models; the worker does." }], patterns: [generatedClient, testCode] }] },
  },
];

export default config;
