// Scheduling overhead: `npm run bench:queue`. For each job: from the moment an upload is accepted
// (its submission row exists) to the moment a worker has claimed it (the claim committed in
// Postgres), with idle workers, so the time is the queue's alone: no sandbox, no model. Two modes in
// one run against the same Postgres and Redis: the fair scheduler (enqueueEvaluation's priority,
// worker/src/evaluate-submission.ts's per-team claim) and a plain FIFO (a job without priority,
// a bare claim). Jobs alternate between three teams. Goal (issue 12): fair p50 <= 25 ms, p99 <= 100 ms.
import { performance } from "node:perf_hooks";
import { createIsolatedEnvironment } from "../tests/support/isolated-environment";
import { benchContext } from "./support/report";

const JOBS = Number(process.env.BENCH_JOBS ?? 200);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function main() {
  const environment = await createIsolatedEnvironment("bench_queue");
  const runId = environment.runId;

  // After the environment is set: these read it when first used.
  const { Worker } = await import("bullmq");
  const { default: IORedis } = await import("ioredis");
  const { EVALUATION_QUEUE, evaluationJobId } = await import("@goat/contracts/evaluation-job");
  const { db } = await import("../lib/db");
  const { env } = await import("../lib/env");
  const { closeEvaluationQueue, enqueueEvaluation, evaluationQueue } = await import("../lib/queue/evaluation-queue");
  const { claimSubmission } = await import("../worker/src/evaluate-submission");

  const task = await db.task.create({
    data: {
      slug: "bench-queue", title: "bench", kind: "CLASSIFICATION", inputSpec: [], outputSpec: [], metrics: ["accuracy"],
      rankMetric: "accuracy", direction: "MAXIMIZE", splitSeed: 1, maxRunningPerTeam: 2,
    },
  });
  const user = await db.user.create({ data: { email: "bench@local", name: "bench", passwordHash: "-" } });
  const teams = await Promise.all([0, 1, 2].map((i) => db.team.create({ data: { name: `bench-${i}`, inviteCode: `${runId}-${i}` } })));

  const started = new Map<number, () => void>();
  let mode: "fair" | "fifo" = "fair";
  const connections: InstanceType<typeof IORedis>[] = [];
  const workers = Array.from({ length: WORKERS }, (_, i) => {
    const connection = new IORedis(env().REDIS_URL, { maxRetriesPerRequest: null });
    connections.push(connection);
    return new Worker(
      EVALUATION_QUEUE,
      async (job) => {
        const submissionId = (job.data as { submissionId: number }).submissionId;
        if (mode === "fair") {
          const { outcome } = await claimSubmission({ db, workerId: `bench-${i}` }, submissionId);
          if (outcome !== "claimed") throw new Error(`not claimed: ${outcome}`);
        } else {
          await db.submission.updateMany({ where: { id: submissionId, status: "QUEUED" }, data: { status: "RUNNING", workerId: `bench-${i}`, startedAt: new Date() } });
        }
        started.get(submissionId)?.();
        // The evaluation itself is not measured: the submission ends at once.
        await db.submission.update({ where: { id: submissionId }, data: { status: "SCORED", finishedAt: new Date() } });
      },
      { connection, prefix: env().QUEUE_PREFIX, concurrency: 1 },
    );
  });
  await Promise.all(workers.map((worker) => worker.waitUntilReady()));

  async function measure(jobs: number): Promise<number[]> {
    const times: number[] = [];
    for (let n = 0; n < jobs; n++) {
      const team = teams[n % teams.length];
      const submission = await db.submission.create({
        data: { taskId: task.id, teamId: team.id, userId: user.id, fileName: "m.onnx", sha256: `${n}`, sizeBytes: 1, storageKey: `k${n}`, paramCount: 0n },
      });
      const accepted = performance.now();
      const claimed = new Promise<void>((resolve) => started.set(submission.id, resolve));
      if (mode === "fair") await enqueueEvaluation(submission.id, "upload");
      else await evaluationQueue().add("evaluate", { submissionId: submission.id, reason: "upload" }, { jobId: evaluationJobId(submission.id), removeOnComplete: true });
      await claimed;
      times.push(performance.now() - accepted);
      started.delete(submission.id);
    }
    return times;
  }

  const rows: string[][] = [];
  const results: Record<string, number[]> = {};
  for (const current of ["fifo", "fair", "fifo", "fair"] as const) {
    mode = current;
    await measure(10); // warm-up: connections, prepared statements
    results[current] = [...(results[current] ?? []), ...(await measure(JOBS / 2))];
  }
  for (const name of ["fair", "fifo"] as const) {
    const times = results[name];
    rows.push([name === "fair" ? "fair (priority + per-team claim)" : "plain FIFO", String(times.length), Math.min(...times).toFixed(1), percentile(times, 50).toFixed(1), percentile(times, 99).toFixed(1), Math.max(...times).toFixed(1)]);
  }
  console.log(`\nQueue scheduling overhead: upload accepted -> evaluation started, ${WORKERS} idle workers`);
  console.log(benchContext());
  console.log("| scheduler | jobs | min ms | p50 (median) ms | p99 ms | max ms |");
  console.log("| --- | --- | --- | --- | --- | --- |");
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
  console.log("Goal: fair p50 <= 25 ms, p99 <= 100 ms.");

  await Promise.all(workers.map((worker) => worker.close()));
  await evaluationQueue().obliterate({ force: true });
  // The queue and the Redis connection it was given (BullMQ's close leaves a given connection open,
  // and that kept this process from exiting once the table was printed).
  await closeEvaluationQueue();
  for (const connection of connections) connection.disconnect();
  await db.$disconnect();
  await environment.dispose();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
