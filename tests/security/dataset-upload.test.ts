import fs from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { encodeNpy, type NdArray } from "@goat/contracts/dataset/npy";
import { encodeNpz } from "@goat/contracts/dataset/npz";
import type { SessionUser } from "@/lib/auth/session";

/**
 * Issue 8, item 13: an organiser's dataset upload (POST /api/admin/tasks/{task}/dataset). A zip
 * bomb was inflated into memory, a file over the size limit was cut silently and imported, and a
 * client that went away mid-upload crashed the process with an uncaught `aborted` and left its
 * staging folder. next-auth's session is read through Next's request scope, which a test cannot
 * enter, so currentUser() is the one seam replaced; the route and everything behind it are real.
 */
const LIMIT = 1024 * 1024;
process.env.DATASET_MAX_BYTES = String(LIMIT);

const session = vi.hoisted(() => ({ user: null as SessionUser | null }));
vi.mock("@/lib/auth/session", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@/lib/auth/session")>()),
  currentUser: async () => session.user,
}));

const { resetEnvForTests } = await import("@/lib/env");
resetEnvForTests();
const { POST: datasetRoute } = await import("@/app/api/admin/tasks/[task]/dataset/route");
const { createUser } = await import("@/lib/accounts/users");
const { db } = await import("@/lib/db");
const { evaluationQueue } = await import("@/lib/queue/evaluation-queue");
const { int64Labels, randomRows, taskWithDataset, uniqueName } = await import("../integration/support/fixtures");

let slug: string;
let versionBefore: string | null;

beforeAll(async () => {
  const user = await createUser({ email: `${uniqueName("admin")}@test.local`, name: "Organiser", password: "admin-password-1", role: "ADMIN" });
  session.user = { id: user.id, email: user.email, name: user.name, role: "ADMIN", team: null };
  const task = await taskWithDataset({ inputs: randomRows(30, 4, 1), labels: int64Labels(Array.from({ length: 30 }, (_, i) => i % 3)) });
  slug = task.slug;
  versionBefore = task.datasetVersion;
});

afterAll(async () => {
  await evaluationQueue().close();
});

function part(name: string, fileName: string, bytes: Uint8Array, boundary: string): Uint8Array[] {
  return [
    new TextEncoder().encode(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${fileName}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    bytes,
    new TextEncoder().encode("\r\n"),
  ];
}

async function post(chunks: Uint8Array[], boundary: string, opts: { abortAfter?: number } = {}) {
  let index = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (opts.abortAfter !== undefined && index === opts.abortAfter) {
        controller.error(new Error("aborted")); // the client went away
        return;
      }
      if (index < chunks.length) controller.enqueue(chunks[index++]);
      else controller.close();
    },
  });
  const request = new Request(`http://localhost:8000/api/admin/tasks/${slug}/dataset`, {
    method: "POST",
    // The organisers' dataset form posts from our own pages (the route checks Origin for cookie callers).
    headers: { "content-type": `multipart/form-data; boundary=${boundary}`, origin: "http://localhost:8000" },
    body,
    duplex: "half",
  } as RequestInit);
  const response = await datasetRoute(request, { params: Promise.resolve({ task: slug }) });
  return { status: response.status, body: await response.json() };
}

function dataset(inputs: { name: string; fileName: string; bytes: Uint8Array }, labels: NdArray): { chunks: Uint8Array[]; boundary: string } {
  const boundary = `----goat${uniqueName("b")}`;
  return {
    boundary,
    chunks: [
      ...part("labels", "labels.npy", encodeNpy(labels), boundary),
      ...part(inputs.name, inputs.fileName, inputs.bytes, boundary),
      new TextEncoder().encode(`--${boundary}--\r\n`),
    ],
  };
}

async function stagingFolders(): Promise<string[]> {
  return (await fs.readdir(process.env.UPLOAD_TMP_DIR!).catch(() => [] as string[])).filter((f) => f.startsWith("dataset-"));
}

async function expectDatasetUnchanged() {
  expect((await db.task.findUniqueOrThrow({ where: { slug } })).datasetVersion).toBe(versionBefore);
  expect(await stagingFolders()).toEqual([]);
}

describe("POST /api/admin/tasks/{task}/dataset", () => {
  it("refuses an .npz that would inflate past the limit (a zip bomb) without inflating it", async () => {
    const rows = 1024 * 1024; // 16 MB of zeros, about 16 KB compressed
    const bomb = encodeNpz({ input: { dtype: "float32", shape: [rows, 4], data: new Float32Array(rows * 4) } }, { compress: true });
    expect(bomb.byteLength).toBeLessThan(LIMIT);
    const { chunks, boundary } = dataset({ name: "inputs", fileName: "inputs.npz", bytes: bomb }, int64Labels([0]));
    const rssBefore = process.memoryUsage().rss;
    const response = await post(chunks, boundary);
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe("PAYLOAD_TOO_LARGE");
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(12 * 1024 * 1024); // never the 16 MB inflated
    await expectDatasetUnchanged();
  });

  it("refuses a file over the size limit instead of importing it cut short", async () => {
    const rows = 70_000; // 70,000 x 4 float32 = 1.1 MB > 1 MB
    const inputs = encodeNpy({ dtype: "float32", shape: [rows, 4], data: new Float32Array(rows * 4) });
    expect(inputs.byteLength).toBeGreaterThan(LIMIT);
    const { chunks, boundary } = dataset({ name: "inputs", fileName: "inputs.npy", bytes: inputs }, int64Labels(Array(rows).fill(0)));
    const response = await post(chunks, boundary);
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe("PAYLOAD_TOO_LARGE");
    await expectDatasetUnchanged();
  });

  it("answers an upload that breaks off with a 400, crashes nothing and leaves no staging folder", async () => {
    const inputs = encodeNpy(randomRows(30, 4, 2));
    const { chunks, boundary } = dataset({ name: "inputs", fileName: "inputs.npy", bytes: inputs }, int64Labels(Array(30).fill(0)));
    const response = await post(chunks, boundary, { abortAfter: 4 }); // labels sent, inputs' header sent, then gone
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(/interrupted/);
    await expectDatasetUnchanged();
  });

  it("still imports a dataset within the limits", async () => {
    const { chunks, boundary } = dataset({ name: "inputs", fileName: "inputs.npy", bytes: encodeNpy(randomRows(30, 4, 3)) }, int64Labels(Array.from({ length: 30 }, (_, i) => i % 3)));
    const response = await post(chunks, boundary);
    expect(response.status).toBe(201);
    expect(response.body.rows).toBe(30);
    expect(await stagingFolders()).toEqual([]);
  });
});
