// Intake under load: `npm run bench:intake` (vitest, bench/vitest.config.ts). Issue 8, item 12: ten concurrent 48 MB junk uploads
// and one 48 MB model with millions of nodes, sent to the real POST /submit/{task} route handler
// in this process, while GET /api/health is called back to back. Reports /api/health latency
// (p50/p99/max) and the growth of this process's resident memory; min/median/max over REPS runs.
// Before the inspection moved to worker threads with bounded reads, the issue measured
// 185 MB -> 684 MB and a 3.4 s /api/health. Goal: health p99 < 100 ms.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Readable } from "node:stream";
import onnxProto from "onnx-proto";
import { it } from "vitest";

const { onnx } = onnxProto;
const REPS = Number(process.env.BENCH_REPS ?? 3);
const UPLOAD_BYTES = Number(process.env.BENCH_UPLOAD_MB ?? 48) * 1024 * 1024;
const JUNK_UPLOADS = Number(process.env.BENCH_JUNK_UPLOADS ?? 10);
const BASE = "http://localhost:8000";

/** A model of about `bytes` whose graph repeats one small node: a million-node walk for the intake. */
function manyNodeModel(bytes: number): Buffer {
  const valueInfo = (name: string, dims: (number | string)[]) =>
    new onnx.ValueInfoProto({
      name,
      type: new onnx.TypeProto({
        tensorType: new onnx.TypeProto.Tensor({
          elemType: 1,
          shape: new onnx.TensorShapeProto({ dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) }),
        }),
      }),
    });
  const head = onnx.GraphProto.encode(
    new onnx.GraphProto({ name: "many", input: [valueInfo("input", ["N", 784])], output: [valueInfo("output", ["N", 10])] }),
  ).finish();
  const node = onnx.NodeProto.encode(new onnx.NodeProto({ opType: "Relu", input: ["a"], output: ["b"] })).finish();
  const nodeField = Buffer.concat([Buffer.from([0x0a, node.length]), node]); // GraphProto.node (1), length < 128
  const count = Math.floor((bytes - 200) / nodeField.length);
  const graph = Buffer.concat([Buffer.from(head), Buffer.alloc(count * nodeField.length)]);
  for (let i = 0; i < count; i++) nodeField.copy(graph, head.length + i * nodeField.length);
  const modelHead = onnx.ModelProto.encode(new onnx.ModelProto({ irVersion: 8, producerName: "bench", opsetImport: [{ domain: "", version: 17 }] })).finish();
  const graphField = onnx.ModelProto.encode(new onnx.ModelProto()).uint32((7 << 3) | 2).uint32(graph.length).finish();
  return Buffer.concat([Buffer.from(modelHead), Buffer.from(graphField), graph]);
}

/** A multipart upload streamed from a file, as curl -F sends it: the body is never in memory. */
function uploadRequest(task: string, token: string, file: string): Request {
  const boundary = `----goatbench${randomBytes(8).toString("hex")}`;
  async function* body() {
    yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="model.onnx"\r\nContent-Type: application/octet-stream\r\n\r\n`);
    for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) yield chunk as Buffer;
    yield Buffer.from(`\r\n--${boundary}--\r\n`);
  }
  return new Request(`${BASE}/submit/${task}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": `multipart/form-data; boundary=${boundary}` },
    body: Readable.toWeb(Readable.from(body())) as ReadableStream<Uint8Array>,
    duplex: "half",
  } as RequestInit);
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const stats = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
};

it("measures /api/health and the web process's memory while uploads are inspected", async () => {
  {
    const { POST: submit } = await import("../app/submit/[task]/route");
    const { GET: health } = await import("../app/api/health/route");
    const { createTask, importDataset } = await import("../lib/tasks/admin");
    const { createUser, createTeam, addTeamMember } = await import("../lib/accounts/users");
    const { createApiToken } = await import("../lib/auth/api-token");
    const { writeNpyFile } = await import("@goat/contracts/dataset/npy");
    const { db } = await import("../lib/db");
    const { evaluationQueue } = await import("../lib/queue/evaluation-queue");

    const root = process.env.GOAT_TEST_ROOT!;
    const slug = "bench-intake";
    await createTask({
      slug,
      title: "bench",
      kind: "CLASSIFICATION",
      inputSpec: [{ name: "input", dtype: "float32", shape: [-1, 784] }],
      outputSpec: [{ name: "output", dtype: "float32", shape: [-1, 10] }],
      rankMetric: "accuracy",
      splitSeed: 1,
      maxModelBytes: UPLOAD_BYTES + 1024 * 1024,
      dailySubmissionLimit: 1000,
    });
    await writeNpyFile(path.join(root, "inputs.npy"), { dtype: "float32", shape: [4, 784], data: new Float32Array(4 * 784) });
    await writeNpyFile(path.join(root, "labels.npy"), { dtype: "int64", shape: [4], data: new BigInt64Array(4) });
    await importDataset(slug, { inputs: path.join(root, "inputs.npy"), labels: path.join(root, "labels.npy") });
    // One team per upload: the measure is the intake's, not a per-team limit's.
    const tokens: string[] = [];
    for (let i = 0; i <= JUNK_UPLOADS; i++) {
      const user = await createUser({ email: `bench-${i}@bench.local`, name: "bench", password: "bench-password-1" });
      const team = await createTeam(`bench-${i}`);
      await addTeamMember(team.id, user.id);
      tokens.push((await createApiToken(user.id, "bench")).token);
    }

    const junk = path.join(root, "junk.bin");
    await fs.writeFile(junk, randomBytes(UPLOAD_BYTES));
    const model = path.join(root, "many-nodes.onnx");
    await fs.writeFile(model, manyNodeModel(UPLOAD_BYTES));

    // Warm up: modules, connections, the inspection threads.
    await health();
    await submit(uploadRequest(slug, tokens[0], junk), { params: Promise.resolve({ task: slug }) });

    const runs: { p50: number; p99: number; max: number; rssGrowthMb: number; rssBeforeMb: number; uploadsMs: number; statuses: string }[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      global.gc?.();
      const rssBefore = process.memoryUsage().rss;
      let rssPeak = rssBefore;
      const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
      const latencies: number[] = [];
      let uploading = true;
      const prober = (async () => {
        while (uploading) {
          const t = performance.now();
          await health();
          latencies.push(performance.now() - t);
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      const started = performance.now();
      const files = [model, ...Array.from({ length: JUNK_UPLOADS }, () => junk)];
      const responses = await Promise.all(
        files.map((file, i) => submit(uploadRequest(slug, tokens[i], file), { params: Promise.resolve({ task: slug }) })),
      );
      const uploadsMs = performance.now() - started;
      uploading = false;
      await prober;
      clearInterval(sampler);
      const sorted = [...latencies].sort((a, b) => a - b);
      runs.push({
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        max: sorted[sorted.length - 1],
        rssGrowthMb: (rssPeak - rssBefore) / 1048576,
        rssBeforeMb: rssBefore / 1048576,
        uploadsMs,
        statuses: responses.map((r) => r.status).join(","),
      });
      await db.submission.deleteMany({});
    }
    await evaluationQueue().close();

    const commit = (() => {
      try {
        return execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
      } catch {
        return "unknown";
      }
    })();
    console.log(`\nIntake under load (${JUNK_UPLOADS} x ${UPLOAD_BYTES / 1048576} MB junk + 1 x ${UPLOAD_BYTES / 1048576} MB many-node model), ${REPS} runs`);
    console.log(`date ${new Date().toISOString()}  commit ${commit}  node ${process.version}  cores ${os.availableParallelism()}`);
    console.log(`statuses of the last run: ${runs[runs.length - 1].statuses} (the model 202, junk 422)\n`);
    const rows: [string, number[], string][] = [
      ["/api/health p50 (ms)", runs.map((r) => r.p50), "ms"],
      ["/api/health p99 (ms)", runs.map((r) => r.p99), "ms"],
      ["/api/health max (ms)", runs.map((r) => r.max), "ms"],
      ["RSS before (MB)", runs.map((r) => r.rssBeforeMb), "MB"],
      ["RSS growth, peak (MB)", runs.map((r) => r.rssGrowthMb), "MB"],
      ["all uploads done (ms)", runs.map((r) => r.uploadsMs), "ms"],
    ];
    console.log(`| measure | min | median | max |\n| --- | ---: | ---: | ---: |`);
    for (const [name, values] of rows) {
      const s = stats(values);
      console.log(`| ${name} | ${s.min.toFixed(1)} | ${s.median.toFixed(1)} | ${s.max.toFixed(1)} |`);
    }
    console.log("\nBefore (issue 8, on main): RSS 185 MB -> 684 MB (+499 MB), /api/health 3.4 s while the many-node model was parsed.");
  }
});
