import { afterAll, beforeAll, expect, it } from "vitest";
import { LOST_AFTER_HEARTBEATS, workerFiguresSchema } from "@goat/contracts/worker-heartbeat";
import { dashboardSnapshot } from "@/lib/admin/dashboard";
import { handBackLostWorkers } from "@/lib/admin/worker-health";
import type { SessionUser } from "@/lib/auth/session";
import { createUser } from "@/lib/accounts/users";
import { db } from "@/lib/db";
import { evaluationQueue } from "@/lib/queue/evaluation-queue";
import { buildHangingModel } from "@/tests/support/onnx/failing-models";
import { int64Labels, participantWithTeam, randomRows, taskWithDataset, uniqueName } from "./support/fixtures";
import { upload } from "./support/upload";
import { waitFor, waitForFinalStatus } from "./support/wait";
import { dropJobsLeftByEarlierFiles } from "./support/shared-queue";
import { startWorker, type WorkerProcess } from "./support/worker-process";

// Heartbeats from real worker processes; one is killed with -9 mid-evaluation: the dashboard shows
// it lost within LOST_AFTER_HEARTBEATS x its interval, its job is handed back and completes on
// the other worker, with exactly one result.

// 1 s, not less: on a loaded 2-core machine a 500 ms heartbeat can miss three beats and look lost.
const INTERVAL_MS = 1_000;
const workers: WorkerProcess[] = [];
let admin: SessionUser;
let slug: string;
let token: string;

beforeAll(async () => {
  const user = await createUser({ email: `${uniqueName("admin")}@test.local`, name: "Organiser", password: "admin-password-1", role: "ADMIN" });
  admin = { id: user.id, email: user.email, name: user.name, role: "ADMIN", team: null };
  const task = await taskWithDataset({
    inputs: randomRows(200, 784, 3),
    labels: int64Labels(Array.from({ length: 200 }, (_, i) => i % 10)),
    outputSpec: [{ name: "output", dtype: "float32", shape: [-1, 10] }],
    batchSize: 200,
  });
  slug = task.slug;
  token = (await participantWithTeam()).token;
  await dropJobsLeftByEarlierFiles();
});

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop("SIGKILL")));
  await evaluationQueue().close();
});

it("a worker's heartbeat carries its host, provider, job and this GPU-less host's CPU and memory figures", async () => {
  const worker = await startWorker("beating-worker", { HEARTBEAT_INTERVAL_MS: String(INTERVAL_MS), WORKER_HOST: "gpu-server-1", NVIDIA_SMI_PATH: "/nonexistent/nvidia-smi", EXECUTION_PROVIDER: "auto" });
  workers.push(worker);
  const row = await waitFor("two heartbeats", async () => {
    const found = await db.worker.findUnique({ where: { id: "beating-worker" } });
    const samples = await db.workerSample.count({ where: { workerId: "beating-worker" } });
    return found && samples >= 2 ? found : null;
  });
  expect(row).toMatchObject({ host: "gpu-server-1", executionProvider: "auto", state: "ONLINE", heartbeatIntervalMs: INTERVAL_MS, currentSubmissionId: null });
  const figures = workerFiguresSchema.parse(row.figures);
  expect(figures.gpu).toBeNull();
  expect(figures.gpuUnavailableReason).toContain("not found");
  expect(figures.cpu.memoryTotalMb).toBeGreaterThan(100);
  const snapshot = await dashboardSnapshot(admin);
  expect(snapshot.workers.find((w) => w.id === "beating-worker")).toMatchObject({ health: "online", host: "gpu-server-1", gpu: null });
  expect(snapshot.workerSeries.find((s) => s.workerId === "beating-worker")!.points.length).toBeGreaterThanOrEqual(2);
  await worker.stop("SIGTERM");
  const stopped = await db.worker.findUniqueOrThrow({ where: { id: "beating-worker" } });
  expect(stopped.state).toBe("STOPPED");
  // The CPU chart's samples carry the worker's own CPU (its process tree), the one its last beat reported, not the host's.
  const lastBeat = workerFiguresSchema.parse(stopped.figures).cpu;
  expect(lastBeat.workerUsagePercent).toEqual(expect.any(Number));
  expect(lastBeat.workerUsagePercent!).toBeGreaterThanOrEqual(0);
  expect(lastBeat.workerUsagePercent!).toBeLessThanOrEqual(100);
  const lastSample = await db.workerSample.findFirstOrThrow({ where: { workerId: "beating-worker" }, orderBy: { at: "desc" }, select: { cpuPercent: true } });
  expect(lastSample.cpuPercent).toBe(lastBeat.workerUsagePercent);
  expect((await dashboardSnapshot(admin)).workers.find((w) => w.id === "beating-worker")!.cpu).toMatchObject({ workerUsagePercent: lastBeat.workerUsagePercent, usagePercent: lastBeat.usagePercent });
  expect((await dashboardSnapshot(admin)).workers.find((w) => w.id === "beating-worker")!.health).toBe("stopped");
});

it("a worker killed with -9 is shown lost within its timeout; its job is handed back and completes on another, once", async () => {
  const doomed = await startWorker("lost-worker", { HEARTBEAT_INTERVAL_MS: String(INTERVAL_MS), LOCK_DURATION_MS: "10000" });
  workers.push(doomed);
  const accepted = await upload(slug, token, buildHangingModel({ tripCount: 2_000_000n }));
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
  const id = accepted.body.id as number;
  await waitFor("the doomed worker to report the job", async () => (await db.worker.findUnique({ where: { id: "lost-worker" } }))?.currentSubmissionId === id, 30_000);
  const rescuer = await startWorker("rescuer-worker", { HEARTBEAT_INTERVAL_MS: String(INTERVAL_MS) });
  workers.push(rescuer);

  await doomed.stop("SIGKILL");
  // The timeout is judged from the dead worker's last heartbeat, not from how fast this machine
  // runs the sweep: silent for exactly LOST_AFTER_HEARTBEATS intervals is not lost yet.
  const { lastHeartbeatAt } = await db.worker.findUniqueOrThrow({ where: { id: "lost-worker" }, select: { lastHeartbeatAt: true } });
  const timeoutEnds = lastHeartbeatAt.getTime() + LOST_AFTER_HEARTBEATS * INTERVAL_MS;
  expect((await handBackLostWorkers(new Date(timeoutEnds))).lost).not.toContain("lost-worker");
  // The web app's sweep (instrumentation.ts runs it every few seconds); called here directly.
  const lost = await waitFor("the worker to be shown lost and handed back", async () => {
    const swept = await handBackLostWorkers();
    const view = (await dashboardSnapshot(admin)).workers.find((w) => w.id === "lost-worker");
    return view?.health === "lost" && swept.lost.includes("lost-worker") ? swept : null;
  }, 30_000);
  const { lostAt } = await db.worker.findUniqueOrThrow({ where: { id: "lost-worker" }, select: { lostAt: true } });
  expect(lostAt!.getTime()).toBeGreaterThan(timeoutEnds);
  expect(lost.requeued).toEqual([id]);
  expect(await db.auditLogEntry.findFirst({ where: { action: "worker.lost", target: "worker:lost-worker" } })).not.toBeNull();
  // Handed back once: a second sweep does nothing.
  expect((await handBackLostWorkers()).lost).not.toContain("lost-worker");

  // The dead worker's BullMQ lock (10 s here) outlives the heartbeat timeout, so the sweep moved the
  // row first; the job itself reaches the rescuer through BullMQ's stalled check once the lock expires.
  expect((await db.submission.findUniqueOrThrow({ where: { id } })).status).toBe("QUEUED");
  const final = await waitForFinalStatus(id, 90_000);
  expect(final, final.message ?? "").toMatchObject({ status: "SCORED", workerId: "rescuer-worker" });
  expect(await db.result.count({ where: { submissionId: id } })).toBe(1);
}, 120_000);
