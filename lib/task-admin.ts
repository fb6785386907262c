import "server-only";
import { randomInt } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { DEFAULT_MAX_RUNNING_PER_TEAM } from "@goat/contracts/fair-queue";
import { validateDataset } from "@goat/contracts/dataset/task-dataset";
import { METRIC_NAMES, NATURAL_DIRECTION, metricsForKind, type MetricName } from "@goat/contracts/metrics";
import { taskDatasetDir } from "@goat/contracts/paths";
import { tensorSpecListSchema } from "@goat/contracts/tensor-spec";
import { z } from "zod";
import { db } from "./db";
import { env } from "./env";
import { ApiError } from "./errors";

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
    publicFraction: z.number().min(0).max(1).default(0.5),
    splitSeed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
    trainingDataFile: z.string().nullable().default(null),
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
    if (task.opensAt && task.closesAt && task.opensAt >= task.closesAt) ctx.addIssue({ code: "custom", path: ["closesAt"], message: "must be after opensAt" });
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
 * Imports a task's hidden test set: the files are copied beside the live ones, validated against
 * the task's signature, then swapped in, so a broken dataset never replaces a working one.
 */
export async function importDataset(slug: string, files: DatasetFiles) {
  const task = await db.task.findUnique({ where: { slug }, select: { id: true, kind: true, inputSpec: true, outputSpec: true } });
  if (!task) throw new ApiError(404, "TASK_NOT_FOUND", `There is no task "${slug}".`);
  const target = taskDatasetDir(env().DATA_DIR, slug);
  const staging = `${target}.import-${process.pid}-${Date.now()}`;
  await fs.mkdir(staging, { recursive: true });
  try {
    const inputName = files.inputs.endsWith(".npz") ? "inputs.npz" : "inputs.npy";
    await fs.copyFile(files.inputs, path.join(staging, inputName));
    await fs.copyFile(files.labels, path.join(staging, "labels.npy"));
    if (files.train) await fs.copyFile(files.train, path.join(staging, "train.npz"));
    const { rows, version } = await validateDataset(
      staging,
      { kind: task.kind, inputSpec: tensorSpecListSchema.parse(task.inputSpec), outputSpec: tensorSpecListSchema.parse(task.outputSpec) },
      { maxInflatedBytes: env().DATASET_MAX_BYTES },
    );
    const previous = `${target}.previous-${Date.now()}`;
    await fs.rename(target, previous).catch(() => {});
    await fs.rename(staging, target);
    await fs.rm(previous, { recursive: true, force: true });
    await db.task.update({
      where: { id: task.id },
      data: { datasetVersion: version, trainingDataFile: files.train ? "train.npz" : null },
    });
    return { rows, version };
  } catch (error) {
    await fs.rm(staging, { recursive: true, force: true });
    throw error;
  }
}
