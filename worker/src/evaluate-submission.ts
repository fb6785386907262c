import { performance } from "node:perf_hooks";
import type { ModelStorage } from "@goat/contracts/model-storage";
import type { MetricName, MetricValues } from "@goat/contracts/metrics";
import type { EvaluationReceipt } from "@goat/contracts/submission";
import { FormulaError, splitScore, type EfficiencyFigures } from "@goat/contracts/score-formula";
import { scoringSettingsOf, type ScoringSnapshot } from "@goat/contracts/scoring-version";
import { boundedName, boundedShape } from "@goat/contracts/participant-message";
import { fixedRowWidth, tensorSpecListSchema, type TensorSpec } from "@goat/contracts/tensor-spec";
import { Prisma, type MetricDirection, type TaskKind } from "@goat/contracts/db";
import type { Db } from "./db";
import { ParticipantFault, PlatformFault } from "./faults";
import { bootstrapInterval, encodeSplitOutcomes, scoreClassifiedSplit, scoreSplit, StreamedClassification, StreamedInterval } from "./metrics/index";
import type { ExecutionProviderConfig } from "./onnx/execution-provider";
import type { SandboxPool } from "./sandbox/pool";
import type { OutageWait } from "./outage";
import type { SandboxRun } from "./sandbox/pool";
import type { OutputBatch, OutputTensor } from "./sandbox/protocol";
import type { TaskDatasetCache, TaskLabels } from "./task-datasets";

/**
 * One evaluation, from a job's submission id to a stored result. Postgres is the source of truth:
 * the submission is claimed (QUEUED/RUNNING -> RUNNING), evaluated in a sandbox process, and the
 * result written once (results.submission_id is unique, and only a RUNNING submission becomes SCORED).
 */
export interface EvaluationContext {
  db: Db;
  storage: ModelStorage;
  sandbox: SandboxPool;
  /** Each dataset version's verified inputs, labels and split (task-datasets.ts). */
  datasets: TaskDatasetCache;
  workerId: string;
  executionProvider: ExecutionProviderConfig;
  /** Tells browsers that a submission changed state (server-sent events). */
  publishStatus?: (submissionId: number) => Promise<void>;
  /** Retries a step while Postgres or storage is down (outage.ts), so an outage costs no attempt. */
  waitOutOutage?: OutageWait;
}

const direct: OutageWait = (_what, step) => step();

/**
 * When each step of a scored evaluation ended, in ms from the job's start (the last scoring round's
 * steps where a scoring edit made it evaluate again): for the worker's log and `npm run bench`.
 */
export interface EvaluationMilestones {
  /** the submission claimed and read */
  claimed: number;
  /** the sandbox child told to evaluate (the model staged, the child ready) */
  evaluating: number;
  /** the child's outputs back in this process */
  returned: number;
  /** the outputs checked, the metrics and scores computed */
  scored: number;
  /** the bootstrap intervals computed: the result is ready to write */
  intervals: number;
  /** the result committed */
  committed: number;
}

export type EvaluationOutcome =
  /** totalMs: from the job's start to the result computed; committedMs: to the result committed */
  | { outcome: "scored"; submissionId: number; publicScore: number; totalMs: number; committedMs: number; milestones: EvaluationMilestones }
  | { outcome: "skipped"; submissionId: number; status: string }
  /** its team is at its running limit: the job goes back to the queue, no attempt spent */
  | { outcome: "deferred"; submissionId: number };

/** A submission as its evaluation reads it: the claim's dataset version and the task's settings. */
export interface ClaimedSubmission {
  id: number;
  sha256: string;
  sizeBytes: number;
  storageKey: string;
  paramCount: bigint;
  status: string;
  /** the version the claim took: the whole evaluation reads this version only */
  datasetVersion: string | null;
  task: {
    id: number;
    slug: string;
    kind: TaskKind;
    inputSpec: unknown;
    outputSpec: unknown;
    metrics: string[];
    rankMetric: string;
    topK: number;
    batchSize: number;
    evalTimeoutMs: number;
    evalMemoryMb: number;
    publicFraction: number;
    splitSeed: number;
    datasetVersion: string | null;
    direction: MetricDirection;
    scoringVersion: number;
    scoreFormula: string | null;
  };
}

/**
 * The columns of a `ClaimedSubmission` but its status and dataset version, from `submissions AS s`
 * and `tasks AS t`, named as the type names them (the task as one JSON object): a row is the
 * submission as it is.
 */
const EVALUATED_COLUMNS_SQL = `s.id, s.sha256, s.size_bytes AS "sizeBytes", s.storage_key AS "storageKey", s.param_count AS "paramCount",
  json_build_object('id', t.id, 'slug', t.slug, 'kind', t.kind, 'inputSpec', t.input_spec, 'outputSpec', t.output_spec,
    'metrics', t.metrics, 'rankMetric', t.rank_metric, 'topK', t.top_k, 'batchSize', t.batch_size,
    'evalTimeoutMs', t.eval_timeout_ms, 'evalMemoryMb', t.eval_memory_mb, 'publicFraction', t.public_fraction,
    'splitSeed', t.split_seed, 'datasetVersion', t.dataset_version, 'direction', t.direction,
    'scoringVersion', t.scoring_version, 'scoreFormula', t.score_formula) AS task`;
const EVALUATED_COLUMNS = Prisma.raw(EVALUATED_COLUMNS_SQL);

/**
 * The claim, as a prepared statement of the pool's (`Db.pool`: Postgres parses and plans it once
 * per connection): $1 the submission, $2 the worker.
 */
const CLAIM_STATEMENT = {
  name: "goat_claim_submission",
  text: `SELECT c.claim_outcome AS outcome, c.claim_status AS status, c.claim_dataset_version AS "datasetVersion", ${EVALUATED_COLUMNS_SQL}
    FROM claim_submission($1::int, $2::text) AS c
    LEFT JOIN submissions AS s ON c.claim_outcome = 'claimed' AND s.id = $1::int
    LEFT JOIN tasks AS t ON t.id = s.task_id`,
};

/** The claimed submission as it is now: a later scoring round of the same job reads it again. */
async function loadSubmission(db: Db, submissionId: number): Promise<ClaimedSubmission> {
  const [row] = await db.$queryRaw<ClaimedSubmission[]>`
    SELECT s.status::text AS status, s.dataset_version AS "datasetVersion", ${EVALUATED_COLUMNS}
    FROM submissions AS s JOIN tasks AS t ON t.id = s.task_id WHERE s.id = ${submissionId}`;
  if (!row) throw new PlatformFault("SUBMISSION_MISSING", `submission ${submissionId} no longer exists`);
  return row;
}

/**
 * A scoring edit (a new scoring version) committed while this evaluation ran: its result would be
 * computed under rules that are no longer the task's, so it is evaluated again under the new ones
 * (at most this many times in one job; then the job is retried like a platform fault).
 */
const MAX_SCORING_ROUNDS = 3;

export type ClaimOutcome =
  | { outcome: "claimed"; submission: ClaimedSubmission }
  /** its team has the task's maxRunningPerTeam evaluations running already; nothing changed */
  | { outcome: "team-limit" }
  /** finished, cancelled or deleted: its status now ("MISSING" when deleted) */
  | { outcome: "gone"; status: string };

/**
 * Marks the submission RUNNING on this worker and reads what its evaluation needs, in one round
 * trip: `claim_submission` (migration 20261130010000_evaluation_round_trips) takes the team's
 * advisory lock and claims under it, unless the team is at its running limit or the submission is
 * finished or cancelled. A worker killed mid-claim leaves nothing behind (the statement's
 * transaction rolls back with its connection).
 */
export async function claimSubmission(ctx: Pick<EvaluationContext, "db" | "workerId">, submissionId: number): Promise<ClaimOutcome> {
  // The function's statements take their snapshots after the lock. The joined columns are read in
  // this statement's snapshot, taken before it: the submission's never change with a claim (its
  // status and version come from the claim), and a scoring edit of the task committed meanwhile is
  // caught when the result is stored (storeResult: "stale", evaluated again).
  // node-postgres gives a BIGINT as its decimal string.
  type ClaimRow = Omit<ClaimedSubmission, "paramCount"> & { outcome: "claimed" | "team-limit" | "gone"; paramCount: string };
  const {
    rows: [row],
  } = await ctx.db.pool.query<ClaimRow>({ ...CLAIM_STATEMENT, values: [submissionId, ctx.workerId] });
  if (!row) return { outcome: "gone", status: "MISSING" };
  if (row.outcome === "claimed") {
    const { outcome: _, paramCount, ...submission } = row;
    return { outcome: "claimed", submission: { ...submission, paramCount: BigInt(paramCount) } };
  }
  if (row.outcome === "team-limit") return { outcome: "team-limit" };
  return { outcome: "gone", status: row.status };
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

/**
 * The model's outputs, checked batch by batch as the sandbox returns them (while the model runs the
 * next batch): the task's output (by name, else the first) must have the task's row width and only
 * finite values, and for a classification task its rows are classified at once, so that only the
 * splits' metrics are left when the last batch is in. `finished` checks the whole: one row per test
 * row, every batch seen.
 */
class CheckedOutputs {
  private readonly width: number;
  private checkedRows = 0;

  constructor(
    private readonly spec: TensorSpec,
    private readonly rows: number,
    readonly classification: StreamedClassification | undefined,
  ) {
    this.width = outputRowWidth(spec);
  }

  private pick<T extends { name: string }>(outputs: T[]): T {
    const output = outputs.find((candidate) => candidate.name === this.spec.name) ?? outputs[0];
    if (!output) throw new ParticipantFault("BAD_OUTPUT", "The model produced no output.");
    return output;
  }

  // The shape the model returned, and where its NaNs are, are computed from the hidden inputs:
  // the messages give the expected shape (the task's) and the rank only.
  private shapeFault(output: { name: string; dims: readonly number[] }): ParticipantFault {
    return new ParticipantFault(
      "BAD_OUTPUT",
      `The model's output ${boundedName(output.name)} does not have the expected shape ${boundedShape([this.rows, ...this.spec.shape.slice(1)])} ` +
        `for ${this.rows} test rows (it has ${output.dims.length} dimensions).`,
    );
  }

  add(batch: OutputBatch): void {
    const output = this.pick(batch.outputs);
    if (output.data.length !== output.dims[0] * this.width) throw this.shapeFault(output);
    if (!allFinite(output.data)) {
      throw new ParticipantFault("NON_FINITE_OUTPUT", "The model's output contains NaN or infinite values; every value must be a finite number.");
    }
    this.classification?.add(output.data, batch.start);
    this.checkedRows += output.dims[0];
  }

  /** The task's output over the whole test set, checked. */
  finished(outputs: OutputTensor[]): ArrayLike<number> {
    const output = this.pick(outputs);
    if (output.dims[0] !== this.rows || output.data.length !== this.rows * this.width) throw this.shapeFault(output);
    if (this.checkedRows !== this.rows) throw new PlatformFault("SANDBOX_PROTOCOL", `${this.checkedRows} of ${this.rows} output rows came as batches`);
    return output.data;
  }
}

/**
 * Whether every value is a finite number. A function of its own: with the loop inside
 * `CheckedOutputs.add`, V8 compiled `add` during its first call's loop (on-stack replacement), and
 * each later call entered that code and left it at once ("insufficient type feedback for generic
 * named access", ~400 times in one worker's burst of 40 evaluations: `--trace-deopt`), running the
 * loop unoptimised: ~5-7 ms per 100,000 values in the worker's CPU profile of `npm run bench`'s (b),
 * against ~0.3 ms optimised.
 */
function allFinite(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}

/**
 * A split's score: the rank metric's value, or the task's score formula over the split's metrics
 * and the model's efficiency figures (contracts/src/score-formula.ts, shared with the editor's preview).
 */
function score(scoring: ScoringSnapshot, metrics: MetricValues, figures: EfficiencyFigures): number {
  let value: number | undefined;
  try {
    value = splitScore(scoring, metrics, figures);
  } catch (error) {
    // The organisers' formula, not the model, cannot be computed: never the participant's fault.
    if (error instanceof FormulaError) throw new PlatformFault("BAD_TASK_CONFIG", `The task's score formula cannot be computed: ${error.message}`);
    throw error;
  }
  if (value === undefined || !Number.isFinite(value)) {
    throw new PlatformFault("BAD_TASK_CONFIG", `The task's ranking metric "${scoring.rankMetric}" was not computed.`);
  }
  return value;
}

export async function evaluateSubmission(ctx: EvaluationContext, submissionId: number): Promise<EvaluationOutcome> {
  const startedAt = performance.now();
  const untilUp = ctx.waitOutOutage ?? direct;
  const claim = await untilUp("claiming the submission", () => claimSubmission(ctx, submissionId));
  const claimed = performance.now() - startedAt;
  if (claim.outcome === "team-limit") return { outcome: "deferred", submissionId };
  if (claim.outcome === "gone") return { outcome: "skipped", submissionId, status: claim.status };
  // RUNNING goes out once the sandbox is evaluating (a read and a publish, ~1-2 ms of this thread,
  // which is idle then), or when the evaluation ends before that; every later event of this
  // submission (scored here, failed or retried by the caller) waits for it, so a browser never sees
  // RUNNING after the outcome. publishStatus never rejects (best effort).
  let announced: Promise<void> | undefined;
  const announce = () => (announced ??= ctx.publishStatus?.(submissionId) ?? Promise.resolve());
  try {
    return await evaluateAndStore(ctx, claim.submission, { startedAt, claimed }, announce);
  } finally {
    await announce();
    // The evaluated child's kill and the next sandbox's fork block this thread for a while (2-4 and
    // 12-19 ms in `npm run bench`): once the result is committed and announced (or the fault is
    // known), not during the transaction.
    setImmediate(() => ctx.sandbox.resultStored());
  }
}

async function evaluateAndStore(
  ctx: EvaluationContext,
  claimed: ClaimedSubmission,
  { startedAt, claimed: claimedAt }: { startedAt: number; claimed: number },
  announce: () => Promise<void>,
): Promise<EvaluationOutcome> {
  const untilUp = ctx.waitOutOutage ?? direct;
  const submissionId = claimed.id;
  let submission = claimed;
  for (let round = 1; ; round++) {
    const evaluated = await evaluateUnderCurrentScoring(ctx, submission, startedAt, announce);
    const stored = await untilUp("storing the result", () => storeResult(ctx.db, submissionId, evaluated));
    if (stored === "stored") {
      const committedMs = performance.now() - startedAt;
      await announce();
      await ctx.publishStatus?.(submissionId);
      const milestones = { claimed: claimedAt, ...evaluated.milestones, committed: committedMs };
      return { outcome: "scored", submissionId, publicScore: evaluated.publicScore, totalMs: evaluated.totalMs, committedMs, milestones };
    }
    if (stored === "gone") {
      const current = await ctx.db.submission.findUnique({ where: { id: submissionId }, select: { status: true } });
      return { outcome: "skipped", submissionId, status: current?.status ?? "MISSING" };
    }
    if (round >= MAX_SCORING_ROUNDS) {
      throw new PlatformFault("SCORING_CHANGED", `The task's scoring changed ${round} times during the evaluation.`);
    }
    // The new scoring may come with a new dataset version: the next round claims the task's current one.
    await untilUp("taking the current dataset version", () => ctx.db.$executeRaw`
      UPDATE submissions AS s SET dataset_version = t.dataset_version
      FROM tasks AS t WHERE s.id = ${submissionId} AND t.id = s.task_id AND s.status = 'RUNNING'`);
    submission = await untilUp("reading the submission", () => loadSubmission(ctx.db, submissionId));
  }
}

/** What an evaluation computed, as storeResult writes it. */
export type EvaluatedSubmission = Awaited<ReturnType<typeof evaluateUnderCurrentScoring>>;

/** Runs the model and computes its metrics and scores under the task's scoring as the submission was read with. */
async function evaluateUnderCurrentScoring(ctx: EvaluationContext, submission: ClaimedSubmission, startedAt: number, announce: () => void) {
  const since = () => performance.now() - startedAt;
  let evaluating = 0;
  const untilUp = ctx.waitOutOutage ?? direct;
  const task = submission.task;
  const scoring: ScoringSnapshot = { ...scoringSettingsOf(task), version: task.scoringVersion };
  const inputSpec = tensorSpecListSchema.parse(task.inputSpec);
  const outputSpec = tensorSpecListSchema.parse(task.outputSpec);

  const datasetVersion = submission.datasetVersion;
  if (!datasetVersion) throw new PlatformFault("DATASET_UNAVAILABLE", `Task "${task.slug}" has no dataset yet.`);
  // Rejects with a PlatformFault (missing on this host, or files that are not this version).
  const labels: TaskLabels = await ctx.datasets.labels({ ...task, datasetVersion, inputSpecs: inputSpec });

  let model;
  try {
    model = await untilUp("fetching the model", () => ctx.storage.fetchToLocal(submission.storageKey));
  } catch (error) {
    throw new PlatformFault("MODEL_UNAVAILABLE", `The stored model cannot be read: ${(error as Error).message}`);
  }
  // How sure each score is (docs/ranking.md, "How sure is a rank"): the rank metric resampled over
  // each split. A task ranked by a formula has no interval (the formula mixes in figures that do not
  // resample). A 0/1 rank metric of a classification (accuracy, top-k) is summed as the batches come
  // (StreamedInterval: the same figures as bootstrapInterval's, computed while the model runs);
  // any other, after the last batch.
  const rankMetric = task.rankMetric as MetricName;
  const streamed =
    task.kind === "CLASSIFICATION" && !scoring.scoreFormula
      ? { public: StreamedInterval.of(rankMetric, labels.publicRows, labels.rows), private: StreamedInterval.of(rankMetric, labels.privateRows, labels.rows) }
      : { public: null, private: null };
  const checked = new CheckedOutputs(
    outputSpec[0],
    labels.rows,
    task.kind === "CLASSIFICATION"
      ? new StreamedClassification(
          outputRowWidth(outputSpec[0]),
          labels.labels.data as ArrayLike<number | bigint>,
          task.topK,
          [streamed.public, streamed.private].filter((interval) => interval !== null),
        )
      : undefined,
  );
  let run;
  try {
    run = await ctx.sandbox.evaluate(
      {
        modelPath: model.path,
        // The inputs of the labels' own read: one version, one read, never a mix.
        dataset: { version: datasetVersion, loadInputs: async () => labels.inputs },
        inputSpecs: inputSpec,
        batchSize: task.batchSize,
        executionProvider: ctx.executionProvider,
      },
      { timeoutMs: task.evalTimeoutMs, memoryMb: task.evalMemoryMb },
      {
        onEvaluating: () => {
          evaluating = since();
          announce();
        },
        onBatch: (batch) => checked.add(batch),
      },
    );
  } finally {
    await model.release();
  }
  const returned = since();

  const predictions = checked.finished(run.outputs);
  const metrics = task.metrics as MetricName[];
  const scoredSplit = (rows: ArrayLike<number>) =>
    checked.classification
      ? scoreClassifiedSplit(metrics, checked.classification.split(rows))
      : scoreSplit({ kind: task.kind, metrics, outputs: predictions, outputWidth: outputRowWidth(outputSpec[0]), labels: labels.labels.data as ArrayLike<number | bigint>, rows, topK: task.topK });
  const publicSplit = scoredSplit(labels.publicRows);
  const privateSplit = scoredSplit(labels.privateRows);
  const publicMetrics = publicSplit.metrics;
  const privateMetrics = privateSplit.metrics;
  const scored = since();
  const latencies = [...run.batchLatenciesMs].sort((a, b) => a - b);
  const latencyP50Ms = percentile(latencies, 50);
  const latencyP95Ms = percentile(latencies, 95);
  const figures: EfficiencyFigures = { paramCount: Number(submission.paramCount), modelBytes: submission.sizeBytes, latencyP50Ms, latencyP95Ms };
  // The intervals, stored with the result and read by the leaderboard as they are.
  const noInterval = { low: null as number | null, high: null as number | null };
  const publicInterval = scoring.scoreFormula ? noInterval : (streamed.public?.finish() ?? (await bootstrapInterval(publicSplit.outcomes, rankMetric)));
  const privateInterval = scoring.scoreFormula ? noInterval : (streamed.private?.finish() ?? (await bootstrapInterval(privateSplit.outcomes, rankMetric)));
  const totalMs = since();
  const receipt: EvaluationReceipt = {
    modelSha256: submission.sha256,
    onnxruntimeVersion: run.onnxruntimeVersion,
    executionProvider: run.provider,
    device: run.device,
    workerId: ctx.workerId,
    batchSize: task.batchSize,
    rows: labels.rows,
    datasetVersion,
    timings: {
      totalMs: Math.round(totalMs * 10) / 10,
      sessionMs: Math.round(run.sessionMs * 10) / 10,
      inferenceMs: Math.round(run.inferenceMs * 10) / 10,
      sandboxWaitMs: Math.round(run.sandboxWaitMs * 10) / 10,
    },
  };
  return {
    taskId: task.id,
    scoring,
    publicMetrics,
    privateMetrics,
    publicScore: score(scoring, publicMetrics, figures),
    privateScore: score(scoring, privateMetrics, figures),
    publicInterval,
    privateInterval,
    rowOutcomes: [
      { split: "PUBLIC" as const, rows: labels.publicRows.length, data: encodeSplitOutcomes(publicSplit.outcomes) },
      { split: "PRIVATE" as const, rows: labels.privateRows.length, data: encodeSplitOutcomes(privateSplit.outcomes) },
    ] as const, // the two splits, in this order: storeResult writes both
    latencyP50Ms,
    latencyP95Ms,
    modelBytes: submission.sizeBytes,
    paramCount: submission.paramCount,
    peakMemoryBytes: BigInt(run.peakMemoryBytes),
    peakGpuMemoryBytes: peakGpuMemory(run),
    receipt,
    totalMs,
    milestones: { evaluating, returned, scored, intervals: totalMs },
  };
}

/**
 * Writes the result: "gone" when the submission is no longer RUNNING (an organiser cancelled it),
 * "stale" when the task's scoring version changed since the result was computed. One round trip:
 * `store_result` (migration 20261130010000_evaluation_round_trips) runs in the statement's
 * transaction what this function's transaction ran, the two statements unchanged. The task row is
 * read FOR SHARE, so a scoring edit waits for this write (and then re-scores the submission) or
 * commits first (and this result is recomputed): never a stale result stored as current. One result
 * per submission (results.submission_id is unique): an organiser's re-score leaves the old result in
 * place until this write replaces it; a retry never gets here twice (only a QUEUED/RUNNING
 * submission is claimed). The leaderboard's triggers run in the same transaction (docs/leaderboard.md).
 * Exported for `npm run bench:load`, which measures this write on a board of event size.
 */
export async function storeResult(db: Db, submissionId: number, evaluated: Omit<EvaluatedSubmission, "milestones">): Promise<"stored" | "gone" | "stale"> {
  const [publicOutcomes, privateOutcomes] = evaluated.rowOutcomes;
  // The row's values as store_result reads them (BIGINTs as strings: JSON numbers are doubles).
  const result = {
    public_metrics: evaluated.publicMetrics,
    private_metrics: evaluated.privateMetrics,
    public_score: evaluated.publicScore,
    private_score: evaluated.privateScore,
    latency_p50_ms: evaluated.latencyP50Ms,
    latency_p95_ms: evaluated.latencyP95Ms,
    model_bytes: evaluated.modelBytes,
    param_count: evaluated.paramCount.toString(),
    peak_memory_bytes: evaluated.peakMemoryBytes.toString(),
    peak_gpu_memory_bytes: evaluated.peakGpuMemoryBytes?.toString() ?? null,
    receipt: evaluated.receipt,
    scoring: evaluated.scoring,
    public_interval_low: evaluated.publicInterval.low,
    public_interval_high: evaluated.publicInterval.high,
    private_interval_low: evaluated.privateInterval.low,
    private_interval_high: evaluated.privateInterval.high,
  };
  const bytes = (data: Uint8Array) => Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const {
    rows: [{ outcome }],
  } = await db.pool.query<{ outcome: "stored" | "gone" | "stale" }>({
    ...STORE_STATEMENT,
    values: [
      submissionId,
      evaluated.taskId,
      evaluated.scoring.version,
      new Date().toISOString(),
      JSON.stringify(result),
      publicOutcomes.rows,
      bytes(publicOutcomes.data),
      privateOutcomes.rows,
      bytes(privateOutcomes.data),
    ],
  });
  return outcome;
}

/**
 * The result's write, as a prepared statement of the pool's (like the claim): the finish time is
 * the worker's clock as UTC wall time, as Prisma writes every timestamp.
 */
const STORE_STATEMENT = {
  name: "goat_store_result",
  text: `SELECT store_result($1::int, $2::int, $3::int, ($4::timestamptz AT TIME ZONE 'UTC')::timestamp(3), $5::jsonb,
    $6::int, $7::bytea, $8::int, $9::bytea) AS outcome`,
};

/** GPU memory counts where the model ran on the GPU: a CPU fallback holds no more than a context. */
export function peakGpuMemory(run: Pick<SandboxRun, "provider" | "peakGpuMemoryBytes">): bigint | null {
  return run.provider === "cuda" && run.peakGpuMemoryBytes !== null ? BigInt(run.peakGpuMemoryBytes) : null;
}


/**
 * A failed re-score keeps the submission's previous result (docs/ranking.md, "When the organisers
 * change the scoring"): a submission that has a result goes back to SCORED with it, its failure is
 * recorded as rescoreFailedVersion (the task's current version) and a message for the team, and the
 * board keeps showing that result, marked with its older scoring version. Returns false for a
 * submission without a result (a first evaluation), which fails as before.
 */
async function keepPreviousResult(db: Db, submissionId: number, statuses: string[], reason: string): Promise<boolean> {
  const message = `Re-scoring failed: ${reason} Your previous result stays on the leaderboard, marked with the scoring version it was computed under.`;
  const kept = await db.$executeRaw`
    UPDATE submissions AS s
    SET status = 'SCORED', rescore_failed_version = t.scoring_version, failure_kind = NULL, message = ${message},
        finished_at = clock_timestamp(), worker_id = NULL, updated_at = clock_timestamp()
    FROM tasks AS t
    WHERE s.id = ${submissionId} AND t.id = s.task_id AND s.status::text = ANY(${statuses})
      AND EXISTS (SELECT 1 FROM results AS r WHERE r.submission_id = s.id)`;
  return kept === 1;
}

/** A participant's fault ends the submission at once: FAILED, with a message for them (or, for a re-score, its previous result kept). */
export async function failForParticipant(db: Db, submissionId: number, fault: ParticipantFault): Promise<void> {
  if (await keepPreviousResult(db, submissionId, ["RUNNING"], fault.displayMessage)) return;
  await db.submission.updateMany({
    where: { id: submissionId, status: "RUNNING" },
    data: { status: "FAILED", failureKind: "PARTICIPANT", message: fault.displayMessage, finishedAt: new Date() },
  });
}

/**
 * A platform fault: the job will be retried, so the submission goes back to QUEUED; after the last
 * attempt it ends FAILED as a platform fault, which costs the team no quota (or, for a re-score,
 * keeps its previous result). The fault itself is for the operators: the caller logs it. Returns
 * whether the submission changed (not when it had ended already).
 */
export async function recordPlatformFault(db: Db, submissionId: number, finalAttempt: boolean): Promise<boolean> {
  if (finalAttempt && (await keepPreviousResult(db, submissionId, ["RUNNING", "QUEUED"], "the evaluation failed on our side."))) return true;
  const { count } = await db.submission.updateMany({
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
  return count === 1;
}
