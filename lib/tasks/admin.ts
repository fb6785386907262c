import "server-only";
import { randomInt } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { DEFAULT_MAX_RUNNING_PER_TEAM } from "@goat/contracts/fair-queue";
import { validateDataset } from "@goat/contracts/dataset/task-dataset";
import { METRIC_NAMES, NATURAL_DIRECTION, metricsForKind, type MetricName } from "@goat/contracts/metrics";
import { FormulaError, MAX_FORMULA_LENGTH, formulaVariables, parseScoreFormula } from "@goat/contracts/score-formula";
import { emptySplitProblem } from "@goat/contracts/scoring-version";
import { tensorSpecListSchema } from "@goat/contracts/tensor-spec";
import { z } from "zod";
import { createStagingDir, markCurrent, publishDatasetVersion, storeTrainingFile, sweepDatasetVersions } from "../datasets/dataset-versions";
import { db } from "../db";
import { env } from "../env";
import { ApiError } from "../errors";
import { switchDatasetVersion } from "../admin/scoring-edit";
import { log } from "../log";

/** Creating and configuring tasks, and importing their hidden test sets. */
const RESERVED_SLUGS = new Set(["queue"]); // /submit/queue/status is the queue's own route

export const taskConfigSchema = z
  .object({
    slug: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-_]{0,62}$/, "lower-case letters, digits, - and _")
      .refine((slug) => !RESERVED_SLUGS.has(slug), "this slug is reserved"),
    title: z.string().trim().min(1).max(120),
    description: z.string().max(20_000).default(""),
    kind: z.enum(["CLASSIFICATION", "REGRESSION"]),
    inputSpec: tensorSpecListSchema,
    outputSpec: tensorSpecListSchema.refine((specs) => specs.length === 1, "a task has exactly one output"),
    metrics: z.array(z.enum(METRIC_NAMES as [MetricName, ...MetricName[]])).min(1).optional(),
    rankMetric: z.enum(METRIC_NAMES as [MetricName, ...MetricName[]]),
    direction: z.enum(["MAXIMIZE", "MINIMIZE"]).optional(),
    topK: z.number().int().min(1).max(1000).default(5),
    maxModelBytes: z.number().int().min(1024).max(2 ** 31 - 1).default(100 * 1024 * 1024),
    dailySubmissionLimit: z.number().int().min(1).max(10_000).default(10),
    evalTimeoutMs: z.number().int().min(1_000).max(3_600_000).default(60_000),
    evalMemoryMb: z.number().int().min(128).max(65_536).default(2_048),
    batchSize: z.number().int().min(1).max(65_536).default(256),
    /** at most this many of one team's submissions are evaluated at once (docs/queue.md) */
    maxRunningPerTeam: z.number().int().min(1).max(1_000).default(DEFAULT_MAX_RUNNING_PER_TEAM),
    opensAt: z.coerce.date().nullable().default(null),
    closesAt: z.coerce.date().nullable().default(null),
    /** team changes close then for whoever has submitted (lib/teams/rules.ts); null: when the task opens */
    teamMergeDeadline: z.coerce.date().nullable().default(null),
    publicFraction: z.number().min(0).max(1).default(0.5),
    /** K: how many final submissions a team may select; the private board ranks their best (docs/ranking.md) */
    finalSubmissionLimit: z.number().int().min(1).max(100).default(2),
    splitSeed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
    trainingDataFile: z.string().nullable().default(null),
    /** ranks by this formula over the metrics and efficiency figures (docs/ranking.md, "Score formulas"); null: the metric */
    scoreFormula: z
      .string()
      .max(MAX_FORMULA_LENGTH)
      .nullable()
      .default(null)
      .transform((formula) => formula?.trim() || null),
    /** show the latest scored reference model as an unranked, labelled row on the boards (docs/ranking.md) */
    showReferenceOnBoards: z.boolean().default(false),
  })
  .transform((task) => {
    const metrics = task.metrics ?? [...metricsForKind(task.kind)];
    return { ...task, metrics, direction: task.direction ?? NATURAL_DIRECTION[task.rankMetric], splitSeed: task.splitSeed ?? randomInt(2 ** 31 - 1) };
  })
  .superRefine((task, ctx) => {
    const allowed = metricsForKind(task.kind) as readonly string[];
    for (const metric of task.metrics) {
      if (!allowed.includes(metric)) ctx.addIssue({ code: "custom", path: ["metrics"], message: `${metric} is not a ${task.kind.toLowerCase()} metric` });
    }
    if (!task.metrics.includes(task.rankMetric)) ctx.addIssue({ code: "custom", path: ["rankMetric"], message: "the ranking metric must be one of the task's metrics" });
    if (task.scoreFormula) {
      try {
        parseScoreFormula(task.scoreFormula, formulaVariables(task.metrics));
      } catch (error) {
        if (!(error instanceof FormulaError)) throw error;
        ctx.addIssue({ code: "custom", path: ["scoreFormula"], message: error.message });
      }
    }
    // 0 or 1 leaves one side of the split empty whatever the dataset (docs/ranking.md).
    if (task.publicFraction === 0) ctx.addIssue({ code: "custom", path: ["publicFraction"], message: "must leave rows on the public leaderboard (more than 0)" });
    if (task.publicFraction === 1) ctx.addIssue({ code: "custom", path: ["publicFraction"], message: "must leave rows on the private leaderboard (less than 1)" });
    if (task.opensAt && task.closesAt && task.opensAt >= task.closesAt) ctx.addIssue({ code: "custom", path: ["closesAt"], message: "must be after opensAt" });
    if (task.teamMergeDeadline && task.closesAt && task.teamMergeDeadline >= task.closesAt) {
      ctx.addIssue({ code: "custom", path: ["teamMergeDeadline"], message: "must be before the task closes" });
    }
  });

export type TaskConfigInput = z.input<typeof taskConfigSchema>;

export async function createTask(input: TaskConfigInput) {
  const config = taskConfigSchema.parse(input);
  const existing = await db.task.findUnique({ where: { slug: config.slug }, select: { id: true } });
  if (existing) throw new ApiError(409, "CONFLICT", `A task with the slug "${config.slug}" already exists.`);
  return db.task.create({ data: config, select: { id: true, slug: true } });
}

export interface DatasetFiles {
  /** inputs.npy (one model input) or inputs.npz (one array per input name) */
  inputs: string;
  labels: string;
  /** optional public training data participants may download */
  train?: string;
}

/**
 * Imports a task's hidden test set as a new, immutable version (lib/datasets/dataset-versions.ts):
 * the files are copied to a staging folder, validated against the task's signature, renamed to
 * `versions/<version>/`, and only then is the task's `datasetVersion` flipped, in one update.
 * A broken dataset never replaces a working one, and a folder an evaluation reads is never touched.
 */
export async function importDataset(slug: string, files: DatasetFiles) {
  const task = await db.task.findUnique({ where: { slug }, select: { id: true, kind: true, inputSpec: true, outputSpec: true, publicFraction: true } });
  if (!task) throw new ApiError(404, "TASK_NOT_FOUND", `There is no task "${slug}".`);
  const dataDir = env().DATA_DIR;
  const staging = await createStagingDir(dataDir, slug);
  let imported: { rows: number; version: string };
  try {
    const inputName = files.inputs.endsWith(".npz") ? "inputs.npz" : "inputs.npy";
    await fs.copyFile(files.inputs, path.join(staging, inputName));
    await fs.copyFile(files.labels, path.join(staging, "labels.npy"));
    imported = await validateDataset(
      staging,
      { kind: task.kind, inputSpec: tensorSpecListSchema.parse(task.inputSpec), outputSpec: tensorSpecListSchema.parse(task.outputSpec) },
      { maxInflatedBytes: env().DATASET_MAX_BYTES },
    );
    // A row count that leaves one side of the task's split empty would fail every evaluation.
    const splitProblem = emptySplitProblem(imported.rows, task.publicFraction);
    if (splitProblem) {
      throw new ApiError(422, "VALIDATION_FAILED", `The task's public fraction ${task.publicFraction} ${splitProblem}; change the fraction first.`, {
        fields: [{ path: "publicFraction", message: splitProblem }],
      });
    }
    await publishDatasetVersion(dataDir, slug, staging, imported.version);
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
  const trainingDataFile = files.train ? await storeTrainingFile(dataDir, slug, files.train) : null;
  // The grace period of the version it replaces starts now, before a sweep can see the flip.
  await markCurrent(dataDir, slug, imported.version);
  // The flip: one transaction, so a worker's claim sees the old version or the new one, never a mix.
  // A different dataset is also a new scoring version: its submissions are re-scored (lib/admin/scoring-edit.ts).
  const rescoring = await switchDatasetVersion(task.id, { datasetVersion: imported.version, datasetRows: imported.rows, trainingDataFile });
  // What the previous versions left behind; a version still in use stays (the reconciler retries).
  await sweepDatasetVersions({ slug }).catch((error: Error) => log.warn({ err: error, task: slug }, `dataset sweep: ${error.message}`));
  return { ...imported, rescoring };
}
