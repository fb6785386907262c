import { performance } from "node:perf_hooks";
import type { ModelStorage } from "@goat/contracts/model-storage";
import type { MetricName, MetricValues } from "@goat/contracts/metrics";
import type { EvaluationReceipt } from "@goat/contracts/submission";
import { boundedName, boundedShape } from "@goat/contracts/participant-message";
import { fixedRowWidth, tensorSpecListSchema, type TensorSpec } from "@goat/contracts/tensor-spec";
import type { Db } from "./db";
import { ParticipantFault, PlatformFault } from "./faults";
import { bootstrapInterval, encodeSplitOutcomes, scoreSplit } from "./metrics/index";
import type { ExecutionProviderConfig } from "./onnx/execution-provider";
import type { SandboxPool } from "./sandbox/pool";
import type { OutageWait } from "./outage";
import type { TaskLabelCache, TaskLabels } from "./task-labels";

/**
 * One evaluation, from a job's submission id to a stored result. Postgres is the source of truth:
 * the submission is claimed (QUEUED/RUNNING -> RUNNING), evaluated in a sandbox process, and the
 * result written once (results.submission_id is unique, and only a RUNNING submission becomes SCORED).
 */
export interface EvaluationContext {
  db: Db;
  storage: ModelStorage;
  sandbox: SandboxPool;
  labels: TaskLabelCache;
  workerId: string;
  executionProvider: ExecutionProviderConfig;
  /** Tells browsers that a submission changed state (server-sent events). */
  publishStatus?: (submissionId: number) => Promise<void>;
  /** Retries a step while Postgres or storage is down (outage.ts), so an outage costs no attempt. */
  waitOutOutage?: OutageWait;
}

const direct: OutageWait = (_what, step) => step();

export type EvaluationOutcome =
  | { outcome: "scored"; submissionId: number; score: number; totalMs: number }
  | { outcome: "skipped"; submissionId: number; status: string }
  /** its team is at its running limit: the job goes back to the queue, no attempt spent */
  | { outcome: "deferred"; submissionId: number };

type ClaimedSubmission = NonNullable<Awaited<ReturnType<typeof loadSubmission>>>;

async function loadSubmission(db: Db, submissionId: number) {
  return db.submission.findUnique({
    where: { id: submissionId },
    select: {
      id: true,
      sha256: true,
      sizeBytes: true,
      storageKey: true,
      paramCount: true,
      status: true,
      task: {
        select: {
          slug: true,
          kind: true,
          inputSpec: true,
          outputSpec: true,
          metrics: true,
          rankMetric: true,
          topK: true,
          batchSize: true,
          evalTimeoutMs: true,
          evalMemoryMb: true,
          publicFraction: true,
          splitSeed: true,
          datasetVersion: true,
        },
      },
    },
  });
}

// Advisory-lock class of the per-team claim (the second key is the team id).
const TEAM_CLAIM_LOCK = 1_207_001;

/**
 * Marks the submission RUNNING on this worker, unless its team already has the task's
 * maxRunningPerTeam evaluations running ("team-limit") or it is finished or cancelled ("gone").
 * A transaction-scoped advisory lock per team makes check-and-claim atomic across workers; a worker
 * killed mid-claim leaves nothing behind (the transaction rolls back with its connection).
 */
export async function claimSubmission(ctx: Pick<EvaluationContext, "db" | "workerId">, submissionId: number): Promise<"claimed" | "team-limit" | "gone"> {
  // Two statements inside the transaction (the scheduling overhead is a few round trips): the lock,
  // then a claim whose own snapshot, taken after the lock, sees every claim committed before it.
  const claimed = await ctx.db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT pg_advisory_xact_lock(${TEAM_CLAIM_LOCK}::int, (SELECT team_id FROM submissions WHERE id = ${submissionId}))::text`;
    // RUNNING is claimable too: a worker that died mid-evaluation leaves its submission RUNNING,
    // and BullMQ hands the stalled job to another worker. clock_timestamp(): the time of the claim,
    // not of the transaction's start.
    return tx.$executeRaw`
      UPDATE submissions AS s
      SET status = 'RUNNING', worker_id = ${ctx.workerId}, started_at = clock_timestamp(), attempts = s.attempts + 1,
          message = NULL, failure_kind = NULL, updated_at = clock_timestamp()
      WHERE s.id = ${submissionId} AND s.status IN ('QUEUED', 'RUNNING')
        AND (SELECT count(*) FROM submissions AS r
             WHERE r.team_id = s.team_id AND r.task_id = s.task_id AND r.status = 'RUNNING' AND r.id <> s.id)
            < (SELECT t.max_running_per_team FROM tasks AS t WHERE t.id = s.task_id)`;
  });
  if (claimed === 1) return "claimed";
  const row = await ctx.db.submission.findUnique({ where: { id: submissionId }, select: { status: true } });
  return row && (row.status === "QUEUED" || row.status === "RUNNING") ? "team-limit" : "gone";
}

/** The task's output row width; a task whose output has a free dimension after the batch is misconfigured. */
function outputRowWidth(spec: TensorSpec): number {
  const width = fixedRowWidth(spec);
  if (width === null) throw new PlatformFault("BAD_TASK_CONFIG", `The task's output ${spec.name} has a free dimension after the batch one.`);
  return width;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/** The model's outputs must have one row per test row and only finite values. */
function checkedOutput(
  outputs: { name: string; dims: readonly number[]; data: ArrayLike<number> }[],
  spec: TensorSpec,
  rows: number,
): ArrayLike<number> {
  const output = outputs.find((candidate) => candidate.name === spec.name) ?? outputs[0];
  if (!output) throw new ParticipantFault("BAD_OUTPUT", "The model produced no output.");
  const width = outputRowWidth(spec);
  // The shape the model returned, and where its NaNs are, are computed from the hidden inputs:
  // the messages give the expected shape (the task's) and the rank only.
  if (output.dims[0] !== rows || output.data.length !== rows * width) {
    throw new ParticipantFault(
      "BAD_OUTPUT",
      `The model's output ${boundedName(output.name)} does not have the expected shape ${boundedShape([rows, ...spec.shape.slice(1)])} ` +
        `for ${rows} test rows (it has ${output.dims.length} dimensions).`,
    );
  }
  for (let i = 0; i < output.data.length; i++) {
    if (!Number.isFinite(output.data[i])) {
      throw new ParticipantFault("NON_FINITE_OUTPUT", "The model's output contains NaN or infinite values; every value must be a finite number.");
    }
  }
  return output.data;
}

function score(metrics: MetricValues, rankMetric: string): number {
  const value = metrics[rankMetric as MetricName];
  if (value === undefined || !Number.isFinite(value)) {
    throw new PlatformFault("BAD_TASK_CONFIG", `The task's ranking metric "${rankMetric}" was not computed.`);
  }
  return value;
}

export async function evaluateSubmission(ctx: EvaluationContext, submissionId: number): Promise<EvaluationOutcome> {
  const startedAt = performance.now();
  const untilUp = ctx.waitOutOutage ?? direct;
  const claimed = await untilUp("claiming the submission", () => claimSubmission(ctx, submissionId));
  if (claimed === "team-limit") return { outcome: "deferred", submissionId };
  if (claimed === "gone") {
    const current = await ctx.db.submission.findUnique({ where: { id: submissionId }, select: { status: true } });
    return { outcome: "skipped", submissionId, status: current?.status ?? "MISSING" };
  }
  await ctx.publishStatus?.(submissionId);
  const submission = (await untilUp("reading the submission", () => loadSubmission(ctx.db, submissionId))) as ClaimedSubmission;
  const task = submission.task;
  const inputSpec = tensorSpecListSchema.parse(task.inputSpec);
  const outputSpec = tensorSpecListSchema.parse(task.outputSpec);

  let labels: TaskLabels;
  try {
    labels = await ctx.labels.get(task);
  } catch (error) {
    throw new PlatformFault("DATASET_UNAVAILABLE", `The test set of "${task.slug}" cannot be read: ${(error as Error).message}`);
  }

  let model;
  try {
    model = await untilUp("fetching the model", () => ctx.storage.fetchToLocal(submission.storageKey));
  } catch (error) {
    throw new PlatformFault("MODEL_UNAVAILABLE", `The stored model cannot be read: ${(error as Error).message}`);
  }
  let run;
  try {
    run = await ctx.sandbox.evaluate(
      {
        modelPath: model.path,
        datasetDir: labels.datasetDir,
        inputSpecs: inputSpec,
        batchSize: task.batchSize,
        executionProvider: ctx.executionProvider,
      },
      { timeoutMs: task.evalTimeoutMs, memoryMb: task.evalMemoryMb },
    );
  } finally {
    await model.release();
  }

  const predictions = checkedOutput(run.outputs, outputSpec[0], labels.rows);
  const metricOptions = {
    kind: task.kind,
    metrics: task.metrics as MetricName[],
    outputs: predictions,
    outputWidth: outputRowWidth(outputSpec[0]),
    labels: labels.labels.data as ArrayLike<number | bigint>,
    topK: task.topK,
  };
  const publicSplit = scoreSplit({ ...metricOptions, rows: labels.publicRows });
  const privateSplit = scoreSplit({ ...metricOptions, rows: labels.privateRows });
  const publicMetrics = publicSplit.metrics;
  const privateMetrics = privateSplit.metrics;
  const latencies = [...run.batchLatenciesMs].sort((a, b) => a - b);
  const totalMs = performance.now() - startedAt;

  const receipt: EvaluationReceipt = {
    modelSha256: submission.sha256,
    onnxruntimeVersion: run.onnxruntimeVersion,
    executionProvider: run.provider,
    device: run.device,
    workerId: ctx.workerId,
    batchSize: task.batchSize,
    rows: labels.rows,
    datasetVersion: task.datasetVersion,
    timings: {
      totalMs: Math.round(totalMs * 10) / 10,
      sessionMs: Math.round(run.sessionMs * 10) / 10,
      inferenceMs: Math.round(run.inferenceMs * 10) / 10,
      sandboxWaitMs: Math.round(run.sandboxWaitMs * 10) / 10,
    },
  };
  const publicScore = score(publicMetrics, task.rankMetric);
  const privateScore = score(privateMetrics, task.rankMetric);
  // How sure each score is (docs/ranking.md, "How sure is a rank"): computed once here, stored with
  // the result, and read by the leaderboard as it is.
  const rankMetric = task.rankMetric as MetricName;
  const publicInterval = await bootstrapInterval(publicSplit.outcomes, rankMetric);
  const privateInterval = await bootstrapInterval(privateSplit.outcomes, rankMetric);

  // The result in hand is kept through a database outage and written once it is back.
  const stored = await untilUp("storing the result", () => ctx.db.$transaction(async (tx) => {
    // Only a submission still RUNNING becomes SCORED (an organiser may have cancelled it meanwhile).
    const { count } = await tx.submission.updateMany({
      where: { id: submissionId, status: "RUNNING" },
      data: { status: "SCORED", finishedAt: new Date(), message: null, failureKind: null },
    });
    if (count !== 1) return false;
    // One result per submission (results.submission_id is unique). A retry never gets here twice:
    // only a QUEUED/RUNNING submission is claimed. An organiser's re-score leaves the old result in
    // place (and on the leaderboard) until this transaction replaces it.
    await tx.result.deleteMany({ where: { submissionId } });
    await tx.result.create({
      data: {
        submissionId,
        publicMetrics,
        privateMetrics,
        publicScore,
        privateScore,
        latencyP50Ms: percentile(latencies, 50),
        latencyP95Ms: percentile(latencies, 95),
        modelBytes: submission.sizeBytes,
        paramCount: submission.paramCount,
        receipt: receipt as unknown as object,
        publicIntervalLow: publicInterval.low,
        publicIntervalHigh: publicInterval.high,
        privateIntervalLow: privateInterval.low,
        privateIntervalHigh: privateInterval.high,
        rowOutcomes: {
          create: [
            { split: "PUBLIC", rows: labels.publicRows.length, data: encodeSplitOutcomes(publicSplit.outcomes) },
            { split: "PRIVATE", rows: labels.privateRows.length, data: encodeSplitOutcomes(privateSplit.outcomes) },
          ],
        },
      },
    });
    return true;
  }));
  if (!stored) {
    const current = await ctx.db.submission.findUnique({ where: { id: submissionId }, select: { status: true } });
    return { outcome: "skipped", submissionId, status: current?.status ?? "MISSING" };
  }
  await ctx.publishStatus?.(submissionId);
  return { outcome: "scored", submissionId, score: publicScore, totalMs };
}

/** A participant's fault ends the submission at once: FAILED, with a message for them. */
export async function failForParticipant(db: Db, submissionId: number, fault: ParticipantFault): Promise<void> {
  await db.submission.updateMany({
    where: { id: submissionId, status: "RUNNING" },
    data: { status: "FAILED", failureKind: "PARTICIPANT", message: fault.displayMessage, finishedAt: new Date() },
  });
}

/**
 * A platform fault: the job will be retried, so the submission goes back to QUEUED; after the last
 * attempt it ends FAILED as a platform fault, which costs the team no quota.
 */
export async function recordPlatformFault(db: Db, submissionId: number, error: Error, finalAttempt: boolean): Promise<void> {
  await db.submission.updateMany({
    where: { id: submissionId, status: { in: ["RUNNING", "QUEUED"] } },
    data: finalAttempt
      ? {
          status: "FAILED",
          failureKind: "PLATFORM",
          finishedAt: new Date(),
          message: "The evaluation failed on our side. It does not count against your quota; the organisers can retry it.",
        }
      : { status: "QUEUED", workerId: null, message: "Retrying after a problem on our side." },
  });
  if (finalAttempt) console.error(`[worker] submission ${submissionId} failed for a platform fault: ${error.message}`);
}
