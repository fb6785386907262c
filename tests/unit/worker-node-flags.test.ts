import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { missingWorkerNodeFlags, WORKER_NODE_FLAGS } from "@/worker/src/node-flags";

/**
 * The worker's Node flags (worker/src/node-flags.ts): every way of starting a worker gives them, and
 * they do what they are there for (a young generation of 2 MB semi-spaces, so that each sandbox
 * child's fork leaves the worker few written pages to fault on).
 */
const ROOT = path.resolve(import.meta.dirname, "../..");

/** new_space's size after churning short-lived objects, in the given flags' Node. */
function newSpaceBytes(flags: readonly string[]): number {
  const churn = `const v8 = require("node:v8"); let keep = [];
    for (let i = 0; i < 300000; i++) { keep.push({ i, s: "x" + i }); if (keep.length > 50000) keep = []; }
    process.stdout.write(String(v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size));`;
  return Number(execFileSync(process.execPath, [...flags, "-e", churn], { encoding: "utf8", env: { PATH: process.env.PATH, NODE_ENV: "test" } }));
}

describe("the worker's Node flags", () => {
  it("are those the worker image and `npm run worker` start it with", () => {
    const dockerfile = readFileSync(path.join(ROOT, "worker/Dockerfile"), "utf8");
    const cmd = JSON.parse(dockerfile.match(/^CMD (\[.*\])$/m)![1]) as string[];
    expect(cmd).toEqual(["node", ...WORKER_NODE_FLAGS, "dist/main.mjs"]);
    const scripts = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    expect(scripts.worker).toMatch(new RegExp(`&& node ${WORKER_NODE_FLAGS.join(" ")} worker/dist/main\\.mjs$`));
  });

  it("cap the young generation that a churn of short-lived objects grows without them", () => {
    const MiB = 2 ** 20;
    expect(newSpaceBytes([])).toBeGreaterThan(4 * MiB);
    expect(newSpaceBytes(WORKER_NODE_FLAGS)).toBeLessThanOrEqual(4 * MiB);
  });

  it("are missing, for the warning at start, unless given on the command line or in NODE_OPTIONS", () => {
    expect(missingWorkerNodeFlags([], "")).toEqual([...WORKER_NODE_FLAGS]);
    expect(missingWorkerNodeFlags(["--max-semi-space-size=16"], "--max-old-space-size=512")).toEqual([...WORKER_NODE_FLAGS]);
    expect(missingWorkerNodeFlags([...WORKER_NODE_FLAGS], "")).toEqual([]);
    expect(missingWorkerNodeFlags([], `--max-old-space-size=512 ${WORKER_NODE_FLAGS.join(" ")}`)).toEqual([]);
  });
});
