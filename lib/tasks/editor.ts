import "server-only";
import { z } from "zod";
import { db } from "../db";
import { ApiError } from "../errors";
import { forgetLeaderboards } from "../leaderboard/cache";
import { taskConfigSchema } from "./admin";
import { emptySplitProblem } from "@goat/contracts/scoring-version";
import { previewScoreFormula } from "../admin/formula-preview";
import { RescoreConfirmationNeeded, updateTaskScoring, type RescorePlan } from "../admin/scoring-edit";
import type { SessionUser } from "../auth/session";
import { recordAudit } from "../admin/audit";
import { assertAdmin } from "../admin/authorize";
import { describeIssue } from "../admin/plain-issues";
import { memoryLimitWarning } from "../admin/memory-room";
import { liveWorkerRooms } from "../admin/worker-health";
import { taskUpdateAnswerSchema, taskUpdateRequestSchema } from "../schemas/tasks";

/**
 * Creating and editing tasks from the browser's task form and the admin API: the form's fields
 * parsed and checked (scoring edits ask for confirmation: lib/admin/scoring-edit.ts). Dataset
 * uploads are in ./dataset-upload.ts, the reference model in ./reference-model.ts.
 */

const optionalDate = z
  .string()
  .optional()
  // <input type="datetime-local"> sends no zone; the form says UTC, so read it as UTC whatever the server's zone.
  .transform((value) => (value ? new Date(/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/.test(value) ? `${value}Z` : value) : null))
  .refine((value) => value === null || !Number.isNaN(value.getTime()), "not a date");

const jsonText = z.string().transform((text, ctx) => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    ctx.addIssue({ code: "custom", message: 'not valid JSON, e.g. [{"name":"input","dtype":"float32","shape":[-1,784]}]' });
    return z.NEVER;
  }
});

/** The task form's fields (all strings, as a browser posts them) turned into taskConfigSchema's input. */
export const taskFormSchema = z.object({
  slug: z.string().trim(),
  title: z.string(),
  description: z.string().default(""),
  kind: z.enum(["CLASSIFICATION", "REGRESSION"]),
  inputSpec: jsonText,
  outputSpec: jsonText,
  metrics: z.string().optional().transform((text) => (text ? text.split(",").map((each) => each.trim()).filter(Boolean) : undefined)),
  rankMetric: z.string(),
  direction: z.enum(["MAXIMIZE", "MINIMIZE"]).optional().or(z.literal("").transform(() => undefined)),
  topK: z.coerce.number().int().default(5),
  maxModelMb: z.coerce.number().positive().default(100),
  dailySubmissionLimit: z.coerce.number().int().default(10),
  evalTimeoutS: z.coerce.number().positive().default(60),
  evalMemoryMb: z.coerce.number().int().default(2048),
  batchSize: z.coerce.number().int().default(256),
  opensAt: optionalDate,
  closesAt: optionalDate,
  teamMergeDeadline: optionalDate,
  publicFraction: z.coerce.number().default(0.5),
  publicFreezeMinutes: z.coerce.number().int().min(0).max(100_000).default(0),
  finalSubmissionLimit: z.coerce.number().int().default(2),
  /** empty: rank by the metric alone */
  scoreFormula: z.string().optional().transform((text) => text?.trim() || null),
  showReferenceOnBoards: z
    .enum(["hidden", "shown"])
    .default("hidden")
    .transform((value) => value === "shown"),
});

export type FieldErrors = Record<string, string[]>;
export type SaveTaskResult =
  | { ok: true; slug: string; rescoring: number }
  /** confirm: the edit changes the scoring of a task with evaluated submissions; it is saved only once confirmed */
  | { ok: false; fieldErrors: FieldErrors; message: string; confirm?: RescorePlan };

function fieldErrors(error: z.ZodError): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.issues) {
    const key = String(issue.path[0] ?? "form");
    const message = describeIssue(issue);
    if (!(errors[key] ??= []).includes(message)) errors[key].push(message);
  }
  return errors;
}

/**
 * Creates a task (existingSlug undefined) or updates one; the slug and split seed of an existing
 * task never change. An update that changes the scoring (lib/admin/scoring-edit.ts) of a task with
 * evaluated submissions is saved only with `confirmRescore`, and then re-scores them.
 */
export async function saveTask(
  actor: SessionUser | null,
  form: Record<string, string>,
  existingSlug?: string,
  { confirmRescore = false }: { confirmRescore?: boolean } = {},
): Promise<SaveTaskResult> {
  assertAdmin(actor);
  // A field left empty takes its default (an empty number field would otherwise coerce to 0).
  const filled = Object.fromEntries(Object.entries(form).filter(([, value]) => value.trim() !== ""));
  const parsedForm = taskFormSchema.safeParse(existingSlug ? { ...filled, slug: existingSlug } : filled);
  if (!parsedForm.success) return { ok: false, fieldErrors: fieldErrors(parsedForm.error), message: "Some fields are not valid." };
  const { maxModelMb, evalTimeoutS, publicFreezeMinutes, ...rest } = parsedForm.data;
  const existing = existingSlug ? await db.task.findUnique({ where: { slug: existingSlug }, select: { id: true, splitSeed: true, datasetRows: true } }) : null;
  if (existingSlug && !existing) throw new ApiError(404, "TASK_NOT_FOUND", `There is no task "${existingSlug}".`);
  const config = taskConfigSchema.safeParse({
    ...rest,
    maxModelBytes: Math.round(maxModelMb * 1024 * 1024),
    evalTimeoutMs: Math.round(evalTimeoutS * 1000),
    ...(existing ? { splitSeed: existing.splitSeed } : {}),
  });
  if (!config.success) {
    const errors = fieldErrors(config.error);
    // The form speaks in MB and seconds; say so where the config's fields differ.
    if (errors.maxModelBytes) errors.maxModelMb = errors.maxModelBytes;
    if (errors.evalTimeoutMs) errors.evalTimeoutS = errors.evalTimeoutMs;
    return { ok: false, fieldErrors: errors, message: "The configuration is not valid." };
  }
  const { slug, trainingDataFile: _ignored, ...data } = config.data;
  if (existing) {
    const refused = await scoringProblems(actor, slug, existing.datasetRows, data);
    if (refused) return { ok: false, fieldErrors: refused, message: "The scoring settings are not valid." };
    let applied;
    try {
      applied = await updateTaskScoring(slug, { ...data, publicFreezeMinutes }, { confirmRescore });
    } catch (error) {
      if (error instanceof RescoreConfirmationNeeded) return { ok: false, fieldErrors: {}, confirm: error.plan, message: "Not saved yet: this edit changes how submissions are scored. Confirm the re-score above, or cancel." };
      throw error;
    }
    // Postgres has rebuilt the boards (freeze, direction, number of finals, scoring version); this process drops its copies now.
    forgetLeaderboards(slug);
    await recordAudit(db, actor.id, "task.update", `task:${slug}`, {
      title: data.title,
      ...(applied.plan.changes.length > 0 ? { scoringVersion: applied.scoringVersion, changed: applied.plan.changes.map((change) => change.field), rescored: applied.plan.submissions } : {}),
    });
    return { ok: true, slug, rescoring: applied.plan.submissions };
  } else {
    if (await db.task.findUnique({ where: { slug }, select: { id: true } })) {
      return { ok: false, fieldErrors: { slug: ["a task with this slug already exists"] }, message: "The slug is taken." };
    }
    await db.task.create({ data: { slug, ...data, publicFreezeMinutes } });
    await recordAudit(db, actor.id, "task.create", `task:${slug}`, { title: data.title });
  }
  return { ok: true, slug, rescoring: 0 };
}

/**
 * Save-time checks that need the task's data: a public fraction that leaves a side of the
 * dataset's split empty, and a score formula that cannot be computed (division by zero, NaN) for
 * one of the task's current results. Field errors, or null.
 */
async function scoringProblems(actor: SessionUser, slug: string, datasetRows: number | null, data: { publicFraction: number; scoreFormula: string | null; metrics: string[]; direction: "MAXIMIZE" | "MINIMIZE" }): Promise<FieldErrors | null> {
  const errors: FieldErrors = {};
  const splitProblem = datasetRows === null ? null : emptySplitProblem(datasetRows, data.publicFraction);
  if (splitProblem) errors.publicFraction = [splitProblem];
  if (data.scoreFormula) {
    const preview = await previewScoreFormula(actor, slug, data.scoreFormula, { metrics: data.metrics, direction: data.direction });
    if (preview.problem) errors.scoreFormula = [`on the current results: ${preview.problem}`];
  }
  return Object.keys(errors).length > 0 ? errors : null;
}

export interface AdminTaskRow {
  slug: string;
  title: string;
  kind: string;
  opensAt: string | null;
  closesAt: string | null;
  datasetVersion: string | null;
  privateRevealed: boolean;
  submissions: number;
}

export async function listTasksForAdmin(actor: SessionUser | null): Promise<AdminTaskRow[]> {
  assertAdmin(actor);
  const rows = await db.task.findMany({
    orderBy: { id: "asc" },
    select: { slug: true, title: true, kind: true, opensAt: true, closesAt: true, datasetVersion: true, privateRevealedAt: true, _count: { select: { submissions: true } } },
  });
  return rows.map((row) => ({
    slug: row.slug,
    title: row.title,
    kind: row.kind,
    opensAt: row.opensAt?.toISOString() ?? null,
    closesAt: row.closesAt?.toISOString() ?? null,
    datasetVersion: row.datasetVersion,
    privateRevealed: row.privateRevealedAt !== null,
    submissions: row._count.submissions,
  }));
}

/** The task form's values (strings) for an existing task. */
export async function taskFormValues(actor: SessionUser | null, slug: string): Promise<Record<string, string> | null> {
  assertAdmin(actor);
  const task = await db.task.findUnique({
    where: { slug },
    select: {
      slug: true, title: true, description: true, kind: true, inputSpec: true, outputSpec: true, metrics: true, rankMetric: true, direction: true,
      topK: true, maxModelBytes: true, dailySubmissionLimit: true, evalTimeoutMs: true, evalMemoryMb: true, batchSize: true, opensAt: true,
      closesAt: true, teamMergeDeadline: true, publicFraction: true, publicFreezeMinutes: true, finalSubmissionLimit: true, scoreFormula: true, showReferenceOnBoards: true,
    },
  });
  if (!task) return null;
  return {
    slug: task.slug,
    title: task.title,
    description: task.description,
    kind: task.kind,
    inputSpec: JSON.stringify(task.inputSpec),
    outputSpec: JSON.stringify(task.outputSpec),
    metrics: task.metrics.join(", "),
    rankMetric: task.rankMetric,
    direction: task.direction,
    topK: String(task.topK),
    maxModelMb: String(Math.round((task.maxModelBytes / (1024 * 1024)) * 100) / 100),
    dailySubmissionLimit: String(task.dailySubmissionLimit),
    evalTimeoutS: String(task.evalTimeoutMs / 1000),
    evalMemoryMb: String(task.evalMemoryMb),
    batchSize: String(task.batchSize),
    opensAt: task.opensAt?.toISOString().slice(0, 16) ?? "",
    closesAt: task.closesAt?.toISOString().slice(0, 16) ?? "",
    teamMergeDeadline: task.teamMergeDeadline?.toISOString().slice(0, 16) ?? "",
    publicFraction: String(task.publicFraction),
    publicFreezeMinutes: String(task.publicFreezeMinutes),
    finalSubmissionLimit: String(task.finalSubmissionLimit),
    scoreFormula: task.scoreFormula ?? "",
    showReferenceOnBoards: task.showReferenceOnBoards ? "shown" : "hidden",
  };
}

export type TaskUpdateAnswer = z.infer<typeof taskUpdateAnswerSchema>;

/**
 * PATCH /api/admin/tasks/{task}: the given settings over the current ones, validated like the
 * editor's form. A scoring change on a task with evaluated submissions answers 409 with what would
 * change and how many submissions would be re-scored, unless `confirmRescore` is true.
 */
export async function updateTaskFromApi(actor: SessionUser | null, slug: string, body: unknown): Promise<TaskUpdateAnswer> {
  assertAdmin(actor);
  const { confirmRescore, publicFreezeMinutes, ...changes } = taskUpdateRequestSchema.parse(body);
  const current = await db.task.findUnique({ where: { slug } });
  if (!current) throw new ApiError(404, "TASK_NOT_FOUND", `There is no task "${slug}".`);
  const config = taskConfigSchema.parse({
    slug,
    title: current.title,
    description: current.description,
    kind: current.kind,
    inputSpec: current.inputSpec,
    outputSpec: current.outputSpec,
    metrics: current.metrics,
    rankMetric: current.rankMetric,
    direction: current.direction,
    topK: current.topK,
    maxModelBytes: current.maxModelBytes,
    dailySubmissionLimit: current.dailySubmissionLimit,
    evalTimeoutMs: current.evalTimeoutMs,
    evalMemoryMb: current.evalMemoryMb,
    batchSize: current.batchSize,
    maxRunningPerTeam: current.maxRunningPerTeam,
    opensAt: current.opensAt,
    closesAt: current.closesAt,
    publicFraction: current.publicFraction,
    splitSeed: current.splitSeed,
    scoreFormula: current.scoreFormula,
    ...changes,
  });
  const { slug: _slug, trainingDataFile: _ignored, ...data } = config;
  const refused = await scoringProblems(actor, slug, current.datasetRows, data);
  if (refused) {
    throw new ApiError(422, "VALIDATION_FAILED", "The scoring settings are not valid.", {
      fields: Object.entries(refused).flatMap(([path, messages]) => messages.map((message) => ({ path, message }))),
    });
  }
  const applied = await updateTaskScoring(slug, { ...data, ...(publicFreezeMinutes === undefined ? {} : { publicFreezeMinutes }) }, { confirmRescore });
  forgetLeaderboards(slug);
  const changed = applied.plan.changes.map((change) => change.field);
  await recordAudit(db, actor.id, "task.update", `task:${slug}`, { via: "api", ...(changed.length > 0 ? { scoringVersion: applied.scoringVersion, changed, rescored: applied.plan.submissions } : {}) });
  // The form warns as the organiser types (components/admin/task-form.tsx); a script is told here.
  const warning = memoryLimitWarning(data.evalMemoryMb, await liveWorkerRooms());
  return { slug, scoringVersion: applied.scoringVersion, changed, rescoring: applied.plan.submissions, warnings: warning ? [warning] : [] };
}
