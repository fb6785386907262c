import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeNpyFile } from "@goat/contracts/dataset/npy";
import type { TensorSpec } from "@goat/contracts/tensor-spec";
import { SandboxPool } from "../../worker/src/sandbox/pool";
import type { ProbeOutcome, ProbeTargets } from "./support/sandbox-probe";

/**
 * Issue 8, item 3: what a model that escaped onnxruntime could reach from the sandbox child.
 * A probe (support/sandbox-probe.ts) is started by the real SandboxPool, through the same spawn
 * path as the real child, and tries to read the labels, another team's stored model and the
 * worker's environment, and to open a socket. Each attempt must fail.
 */

const inputSpecs: TensorSpec[] = [{ name: "input", dtype: "float32", shape: [-1, 4] }];
const probeEntry = fileURLToPath(new URL("./support/sandbox-probe.ts", import.meta.url));

let root: string;
let dataDir: string;
let storageDir: string;
let server: net.Server;
let port: number;
let connections = 0;
let outcome: ProbeOutcome;
const warnings: string[] = [];

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), "goat-isolation-"));
  chmodSync(root, 0o755); // readable to everyone: only the sandbox's own measures may stop the probe
  dataDir = path.join(root, "data");
  storageDir = path.join(root, "storage");
  const taskDir = path.join(dataDir, "task");
  mkdirSync(taskDir, { recursive: true });
  mkdirSync(path.join(storageDir, "task"), { recursive: true });
  await writeNpyFile(path.join(taskDir, "inputs.npy"), { dtype: "float32", shape: [2, 4], data: new Float32Array(8) });
  await writeNpyFile(path.join(taskDir, "labels.npy"), { dtype: "int64", shape: [2], data: new BigInt64Array([1n, 0n]) });
  writeFileSync(path.join(storageDir, "task", "other-team.onnx"), "another team's model");

  server = net.createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as net.AddressInfo).port;

  const targets: ProbeTargets = {
    files: [path.join(taskDir, "labels.npy"), path.join(taskDir, "inputs.npy"), path.join(storageDir, "task", "other-team.onnx")],
    folders: [dataDir, storageDir],
    port,
  };
  const ownModel = path.join(storageDir, "task", "own.onnx");
  writeFileSync(ownModel, JSON.stringify(targets));

  process.env.GOAT_TEST_SECRET = "must-not-reach-the-sandbox";
  const pool = new SandboxPool({ childEntry: probeEntry, maxSpare: 0, hidePaths: [dataDir, storageDir], logger: { warn: (m) => warnings.push(m) } });
  try {
    const run = await pool.evaluate(
      { modelPath: ownModel, datasetDir: taskDir, inputSpecs, batchSize: 2, executionProvider: { provider: "cpu", deviceId: 0, intraOpThreads: 1 } },
      { timeoutMs: 20_000, memoryMb: 1024 },
    );
    outcome = JSON.parse(run.warnings[0]) as ProbeOutcome;
  } finally {
    await pool.close();
    delete process.env.GOAT_TEST_SECRET;
  }
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("the sandbox child", () => {
  it("reads its own model from a private copy, not from the storage folder", () => {
    expect(outcome.targets.port).toBe(port);
    expect(path.basename(outcome.modelPath)).toBe("model.onnx");
    expect(outcome.modelPath.startsWith(storageDir)).toBe(false);
  });

  it("cannot read the labels, the test inputs on disk, or another team's stored model", () => {
    for (const file of outcome.targets.files) expect(outcome.reads[file], file).not.toBe("ok");
    for (const folder of outcome.targets.folders) expect(outcome.listings[folder], folder).not.toBe("ok");
  });

  it("cannot read the worker's environment (DATABASE_URL, secrets) through /proc", () => {
    expect(outcome.parentPid).toBe(process.pid);
    expect(outcome.reads[`/proc/${process.pid}/environ`]).toMatch(/EACCES|EPERM/);
  });

  it("gets an environment without the worker's variables", () => {
    expect(outcome.envKeys).not.toContain("GOAT_TEST_SECRET");
    expect(outcome.envKeys).not.toContain("DATABASE_URL");
    expect(outcome.envKeys).not.toContain("PATH");
    // Node's IPC channel, PWD which the wrapper shell exports, and the pool's own malloc tunable
    // (huge pages, where the kernel has them: worker/src/sandbox/huge-pages.ts): nothing else.
    expect(outcome.envKeys.filter((k) => !k.startsWith("NODE_CHANNEL_") && k !== "PWD" && k !== "GLIBC_TUNABLES")).toEqual([]);
    expect([null, "glibc.malloc.hugetlb=1"]).toContain(outcome.mallocTunables);
  });

  it("runs as an unprivileged user without new privileges when the worker is root", () => {
    expect(outcome.noNewPrivs).toBe("1");
    if (process.getuid?.() === 0) {
      expect(outcome.uid).toBe(65534);
      expect(outcome.gid).toBe(65534);
    }
  });

  it("cannot open a network connection, even to the worker's own host", () => {
    expect(outcome.connect).not.toBe("ok");
    expect(connections).toBe(0);
    expect(warnings.filter((w) => w.startsWith("sandbox:"))).toEqual([]);
  });
});
