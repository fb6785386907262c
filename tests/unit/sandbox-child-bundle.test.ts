import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { prepareChildLaunch, withNativeBindingFoundAtStart } from "../../worker/src/sandbox/child-bundle";

/**
 * The sandbox child is bundled into one CommonJS file with onnxruntime-node's JavaScript inside
 * (worker/src/sandbox/child-bundle.ts): the bundle must load the native binding from its new
 * place, find the CUDA provider's folder from there, and say why when it cannot be made.
 */

const ROOT = path.resolve(import.meta.dirname, "../..");
const ONNXRUNTIME_DIR = path.dirname(createRequire(import.meta.url).resolve("onnxruntime-node/package.json"));
const BINDING_DIR = path.join(ONNXRUNTIME_DIR, "bin", "napi-v6", process.platform, process.arch);
const runPlain = (file: string) => spawnSync(process.execPath, [file], { encoding: "utf8", env: { PATH: process.env.PATH, NODE_ENV: "test" }, timeout: 30_000 });

describe("the sandbox child's bundle", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "goat-child-bundle-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is one CommonJS file holding onnxruntime's JavaScript, its native binding found from the bundle's place at start", () => {
    const launch = prepareChildLaunch(path.join(ROOT, "worker/src/sandbox/child.ts"));
    expect(launch).toMatchObject({ bundled: true, execArgv: [] });
    expect(launch.fallback).toBeUndefined();
    expect(launch.entry).toMatch(/node_modules\/\.cache\/mls-goat-sandbox\/child-[0-9a-f]{16}\.cjs$/);
    const code = readFileSync(launch.entry, "utf8");
    expect(code).toContain(`require(__goatOnnxruntimeBindings() + "/${process.platform}/${process.arch}/onnxruntime_binding.node")`);
    // No path of this machine's: the file runs wherever node_modules above it holds onnxruntime-node.
    expect(code).not.toContain(ONNXRUNTIME_DIR);
    expect(code).not.toContain('require("../bin/napi-v6/');
    expect(code).not.toMatch(/require\("onnxruntime-(node|common)"\)/);
    // esbuild turns any other `import.meta` of ESM sources into an empty object ("import_meta").
    expect(code).not.toMatch(/import\.meta|import_meta/);
  });

  it("loads onnxruntime when started by plain Node (then refuses to run without the pool's IPC channel)", () => {
    const launch = prepareChildLaunch(path.join(ROOT, "worker/src/sandbox/child.ts"));
    const run = runPlain(launch.entry);
    expect(run.stderr).toContain("sandbox child: must be started by SandboxPool (no IPC channel)");
    expect(run.stderr).not.toContain("Cannot find module");
    expect(run.status).toBe(2);
  });

  it("looks for the CUDA provider library beside onnxruntime-node's binding, from the bundle's place", () => {
    const launch = prepareChildLaunch(path.join(ROOT, "tests/support/sandbox/binding-dir-probe.ts"));
    expect(launch.bundled).toBe(true);
    const run = runPlain(launch.entry);
    expect(run.stdout).toBe(`${BINDING_DIR} function`);
    expect(run.status).toBe(0);
  });

  it("falls back to tsx and says why when the child cannot be bundled as CommonJS", () => {
    const entry = path.join(dir, "top-level-await.ts");
    writeFileSync(entry, "await Promise.resolve();\nexport {};\n");
    const launch = prepareChildLaunch(entry);
    expect(launch.bundled).toBe(false);
    expect(launch.entry).toBe(entry);
    expect(launch.execArgv).toEqual(["--import", expect.stringMatching(/^file:.*tsx/)]);
    expect(launch.fallback).toMatch(/top-level-await\.ts:1: Top-level await is currently not supported with the "cjs" output format/);
  });

  it("refuses a bundle that would still load a native addon by a relative path (another package layout)", () => {
    expect(() => withNativeBindingFoundAtStart('x = require("../bin/napi-v7/linux/x64/onnxruntime_binding.node");')).toThrow(
      'the bundle would load a native addon by a relative path: require("../bin/napi-v7/linux/x64/onnxruntime_binding.node")',
    );
    expect(withNativeBindingFoundAtStart('require("node:fs");')).toBe('require("node:fs");');
  });

  it("loads onnxruntime from another folder of the checkout, and says which package it misses where none is above it", () => {
    const launch = prepareChildLaunch(path.join(ROOT, "tests/support/sandbox/binding-dir-probe.ts"));
    const code = readFileSync(launch.entry, "utf8");
    // Elsewhere under the checkout (as a moved worker/dist): node_modules above it holds the package.
    mkdirSync(path.join(ROOT, "var"), { recursive: true });
    const moved = mkdtempSync(path.join(ROOT, "var", "moved-child-"));
    try {
      writeFileSync(path.join(moved, "probe.cjs"), code);
      const run = runPlain(path.join(moved, "probe.cjs"));
      expect(run.stdout).toBe(`${BINDING_DIR} function`);
      expect(run.status).toBe(0);
    } finally {
      rmSync(moved, { recursive: true, force: true });
    }
    // Outside any node_modules tree: Node's own error names the package, not a path of the build.
    writeFileSync(path.join(dir, "probe.cjs"), code);
    const lost = runPlain(path.join(dir, "probe.cjs"));
    expect(lost.status).not.toBe(0);
    expect(lost.stderr).toContain("Cannot find module 'onnxruntime-node/package.json'");
  });

  it("bundles a child that does not load onnxruntime (the tests' probe children) without a fallback", () => {
    const entry = path.join(dir, "plain-child.ts");
    writeFileSync(entry, 'import { readFileSync } from "node:fs";\nprocess.stdout.write(String(typeof readFileSync));\n');
    const launch = prepareChildLaunch(entry);
    expect(launch).toMatchObject({ bundled: true });
    expect(launch.fallback).toBeUndefined();
    expect(runPlain(launch.entry).stdout).toBe("function");
  });
});
