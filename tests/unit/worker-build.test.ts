import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { BUILT_WORKER, buildWorker } from "../support/built-worker";

/**
 * The built worker (scripts/build-worker.ts, `npm run worker:build`): what production, the tests'
 * worker processes and the benchmarks start with plain Node. Evaluations through it are the
 * integration, chaos and e2e projects' (their workers are this build).
 */

const DIST = path.dirname(BUILT_WORKER);
const CHILD = path.join(DIST, "sandbox-child.cjs");
const runPlain = (file: string, env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [file], { encoding: "utf8", env: { PATH: process.env.PATH, NODE_ENV: "test", ...env }, timeout: 30_000 });

describe("the built worker", () => {
  beforeAll(() => buildWorker(), 60_000);

  it("is one ES module of our code: packages stay imports, our workspace package and the Prisma client are inside", () => {
    const code = readFileSync(BUILT_WORKER, "utf8");
    const imported = new Set([...code.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]));
    expect(imported).toContain("bullmq");
    expect(imported).toContain("pg");
    expect([...imported].filter((name) => name.startsWith("@goat/") || name.startsWith(".") || name.startsWith("/"))).toEqual([]);
    // Nothing of tsx's loader, and the generated client's code is in the bundle, not imported.
    expect(code).not.toMatch(/from "tsx|import\("tsx/);
    expect(code).toContain("PrismaClient");
  });

  it("starts with plain Node: every import resolves, and a wrong setting is refused as the sources refuse it", () => {
    const run = runPlain(BUILT_WORKER, { EXECUTION_PROVIDER: "gpu" });
    expect(run.stderr).not.toContain("Cannot find");
    expect(run.stderr).not.toContain("ERR_MODULE_NOT_FOUND");
    expect(run.stderr).toContain('"EXECUTION_PROVIDER"');
    expect(run.stderr).toContain('expected one of \\"auto\\"|\\"cuda\\"|\\"cpu\\"');
    expect(run.status).toBe(1);
  });

  it("starts its sandbox child from the child built beside it, which loads onnxruntime with plain Node", () => {
    expect(readFileSync(BUILT_WORKER, "utf8")).toContain('"./sandbox-child.cjs"');
    // Nothing of the build's place: the child finds onnxruntime from its own (worker/dist may move).
    expect(readFileSync(CHILD, "utf8")).not.toContain(path.resolve(DIST, "../../node_modules"));
    const run = runPlain(CHILD);
    expect(run.stderr).toContain("sandbox child: must be started by SandboxPool (no IPC channel)");
    expect(run.stderr).not.toContain("Cannot find module");
    expect(run.status).toBe(2);
  });
});
