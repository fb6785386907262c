import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeNpyFile } from "@goat/contracts/dataset/npy";
import type { TensorSpec } from "@goat/contracts/tensor-spec";
import { CHILD_UIDS, inUidRange } from "../../worker/src/sandbox/isolation";
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
/** The same probe, evaluating while two spares of its pool wait beside it. */
let withSpares: ProbeOutcome;
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
  const request = { modelPath: ownModel, datasetDir: taskDir, inputSpecs, batchSize: 2, executionProvider: { provider: "cpu" as const, deviceId: 0, intraOpThreads: 1 } };
  const limits = { timeoutMs: 20_000, memoryMb: 1024 };
  const pool = new SandboxPool({ childEntry: probeEntry, maxSpare: 0, hidePaths: [dataDir, storageDir], logger: { warn: (m) => warnings.push(m) } });
  try {
    outcome = JSON.parse((await pool.evaluate(request, limits)).warnings[0]) as ProbeOutcome;
  } finally {
    await pool.close();
    delete process.env.GOAT_TEST_SECRET;
  }
  const sparing = new SandboxPool({ childEntry: probeEntry, maxSpare: 2, spareStart: "after-evaluation", hidePaths: [dataDir, storageDir], logger: { warn: (m) => warnings.push(m) } });
  try {
    sparing.warmUp({ datasetDir: taskDir, inputSpecs });
    await sparing.sparesReady();
    withSpares = JSON.parse((await sparing.evaluate(request, limits)).warnings[0]) as ProbeOutcome;
  } finally {
    await sparing.close();
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

  it("cannot read the worker's environment (DATABASE_URL, secrets) through /proc, nor its launcher's", () => {
    const [launcher, worker] = outcome.ancestors;
    expect(worker).toBe(process.pid);
    expect(launcher).not.toBe(process.pid);
    expect(outcome.reads[`/proc/${process.pid}/environ`]).toMatch(/EACCES|EPERM/);
    expect(outcome.reads[`/proc/${launcher}/environ`]).toMatch(/EACCES|EPERM/);
  });

  it("gets an environment without the worker's variables", () => {
    expect(outcome.envKeys).not.toContain("GOAT_TEST_SECRET");
    expect(outcome.envKeys).not.toContain("DATABASE_URL");
    expect(outcome.envKeys).not.toContain("PATH");
    // Node's IPC channel and the pool's own malloc tunable (huge pages, where the kernel has them:
    // worker/src/sandbox/huge-pages.ts): nothing else; no shell wraps the child, so no PWD either.
    expect(outcome.envKeys.filter((k) => !k.startsWith("NODE_CHANNEL_") && k !== "GLIBC_TUNABLES")).toEqual([]);
    expect([null, "glibc.malloc.hugetlb=1"]).toContain(outcome.mallocTunables);
  });

  it("runs as an unprivileged user without new privileges when the worker is root", () => {
    expect(outcome.noNewPrivs).toBe("1");
    if (process.getuid?.() === 0) {
      expect(inUidRange(CHILD_UIDS, outcome.uid)).toBe(true);
      expect(outcome.gid).toBe(65534);
    }
  });

  // A worker that is not root cannot switch user: its children share its uid (docs/security-sandbox.md, "What it does not isolate").
  it.skipIf(process.getuid?.() !== 0)("cannot read or write the memory or environment of the spares waiting beside it (the next team's evaluation)", () => {
    const spares = Object.values(withSpares.siblings).filter((sibling) => sibling.uid !== 0);
    // The pool's other spare (the one evaluating took the first); maybe the next one starting.
    expect(spares.length).toBeGreaterThanOrEqual(1);
    for (const spare of spares) {
      expect(spare.environ).toMatch(/EACCES|EPERM/);
      expect(spare.mem).toMatch(/EACCES|EPERM/);
    }
    // Each child a uid of its own, none of them the evaluating child's.
    const uids = spares.map((spare) => spare.uid);
    expect(new Set([...uids, withSpares.uid]).size).toBe(uids.length + 1);
    for (const uid of uids) expect(inUidRange(CHILD_UIDS, uid)).toBe(true);
  });

  it("cannot open a network connection, even to the worker's own host", () => {
    expect(outcome.connect).not.toBe("ok");
    expect(connections).toBe(0);
    expect(warnings.filter((w) => w.startsWith("sandbox:"))).toEqual([]);
  });
});
