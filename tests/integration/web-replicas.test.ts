import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import IORedis from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { evaluationJobId } from "@goat/contracts/evaluation-job";
import { workerOnlineChannel } from "@goat/contracts/queue-signals";
import { sweepLostWorkersExclusively } from "@/lib/admin/worker-health";
import { db } from "@/lib/db";
import { publishSubmissionStatus } from "@/lib/events/submission-events";
import { evaluationQueue } from "@/lib/queue/evaluation-queue";
import { buildMlp } from "@/tools/onnx/build-model";
import { int64Labels, participantWithTeam, randomRows, taskWithDataset } from "./support/fixtures";
import { upload } from "./support/upload";
import { waitFor } from "./support/wait";

// The web app at N replicas: two web processes' background work (support/web-replica.ts) against one
// database and queue. The reconciler runs in one replica at a time (a Redis lock), so a lost job is
// re-added once, not once per replica; every submission event reaches both replicas.

const ROOT = path.resolve(__dirname, "../..");

interface Replica {
  child: ChildProcess;
  output(): string;
}

const replicas: Replica[] = [];

function startReplica(): Promise<Replica> {
  const child = spawn(process.execPath, ["--conditions=react-server", "--import", "tsx", "tests/integration/support/web-replica.ts"], {
    cwd: ROOT,
    env: { ...process.env, REPLICAS: "2", LOG_LEVEL: "debug", RECONCILE_INTERVAL_MS: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout!.on("data", (chunk) => (log += chunk));
  child.stderr!.on("data", (chunk) => (log += chunk));
  const replica = { child, output: () => log };
  replicas.push(replica);
  return Promise.resolve(replica);
}

/** The reconciler passes this replica logged (pino JSON lines): what each re-added, or that it stood aside. */
function passesOf(replica: Replica, trigger: string) {
  return replica
    .output()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { msg?: string; trigger?: string; requeued?: number[] })
    .filter((entry) => entry.msg?.startsWith("reconciler:") && entry.trigger === trigger);
}

let slug: string;
let token: string;

beforeAll(async () => {
  const task = await taskWithDataset({ inputs: randomRows(20, 784, 8), labels: int64Labels(Array(20).fill(1)), outputSpec: [{ name: "output", dtype: "float32", shape: [-1, 10] }], dailySubmissionLimit: 100 });
  slug = task.slug;
  token = (await participantWithTeam()).token;
});

afterAll(async () => {
  for (const replica of replicas) replica.child.kill("SIGKILL");
  await evaluationQueue().close();
});

it("two web replicas: a lost job is re-added once, by one of them, and every event reaches both", async () => {
  // Queued submissions (no worker runs here) whose jobs are then lost, as after a Redis flush.
  const ids: number[] = [];
  for (let i = 0; i < 12; i++) {
    const accepted = await upload(slug, token, buildMlp({ sizes: [784, 4, 10], seed: 100 + i }));
    expect(accepted.status).toBe(202);
    ids.push(accepted.body.id as number);
  }
  const [a, b] = await Promise.all([startReplica(), startReplica()]);
  await waitFor("both replicas subscribed", async () => a.output().includes("REPLICA READY") && b.output().includes("REPLICA READY"), 60_000);
  // Each replica's start-up pass is over (it ran, or stood aside) before the jobs go.
  await waitFor("both start-up passes", async () => passesOf(a, "interval").length > 0 && passesOf(b, "interval").length > 0, 30_000);
  for (const id of ids) await (await evaluationQueue().getJob(evaluationJobId(id)))!.remove();

  // A worker coming online wakes the reconciler of both replicas at the same moment.
  const redis = new IORedis(process.env.REDIS_URL!);
  await redis.publish(workerOnlineChannel(process.env.QUEUE_PREFIX!), "replica-test-worker");
  await waitFor("every job re-added", async () => {
    for (const id of ids) if (!(await evaluationQueue().getJob(evaluationJobId(id)))) return false;
    return true;
  });
  // Each replica logs its pass: what it re-added, or that the other one held the lock.
  await waitFor("both replicas' passes", async () => passesOf(a, "worker_online").length > 0 && passesOf(b, "worker_online").length > 0);

  const all = [a, b].flatMap((replica) => passesOf(replica, "worker_online").flatMap((pass) => pass.requeued ?? []));
  expect(all.sort((x, y) => x - y)).toEqual(ids); // each lost job re-added exactly once across both
  // BullMQ's own event stream agrees: one "added" per job since the loss.
  const events = await redis.xrange(`${process.env.QUEUE_PREFIX}:evaluations:events`, "-", "+");
  for (const id of ids) {
    const removedAt = events.findLastIndex(([, fields]) => fields.includes("removed") && fields.includes(evaluationJobId(id)));
    const addedAfter = events.slice(removedAt + 1).filter(([, fields]) => fields[1] === "added" && fields.includes(evaluationJobId(id)));
    expect(addedAfter, `job of submission ${id}`).toHaveLength(1);
  }

  // Every submission event reaches both replicas (each has its own subscriber connection).
  for (const id of ids) await publishSubmissionStatus(id);
  const received = (replica: Replica) =>
    new Set(
      replica
        .output()
        .split("\n")
        .filter((line) => line.startsWith("EVENT "))
        .map((line) => (JSON.parse(line.slice(6)) as { submissionId: number }).submissionId),
    );
  await waitFor("every event at both replicas", async () => ids.every((id) => received(a).has(id) && received(b).has(id)), 15_000);
  await redis.quit();
});

it("the lost-worker sweep runs in one replica at a time: of two passes at once, one sweeps and one stands aside", async () => {
  await db.worker.create({
    data: { id: "replica-lost-worker", host: "h", executionProvider: "cpu", figures: {}, heartbeatIntervalMs: 1_000, lastHeartbeatAt: new Date(Date.now() - 60_000), state: "ONLINE", startedAt: new Date(Date.now() - 120_000) },
  });
  const outcomes = await Promise.all([sweepLostWorkersExclusively(), sweepLostWorkersExclusively()]);
  expect(outcomes.filter((outcome) => outcome === null)).toHaveLength(1);
  // Integration files share one database: workers that earlier files left silent are swept too.
  expect(outcomes.find((outcome) => outcome !== null)?.lost).toContain("replica-lost-worker");
  expect(await db.auditLogEntry.count({ where: { action: "worker.lost", target: "worker:replica-lost-worker" } })).toBe(1);
});
