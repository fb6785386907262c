import "server-only";
import { tensorSpecListSchema, type TensorSpec } from "@goat/contracts/tensor-spec";
import { db } from "../db";
import { ApiError } from "../errors";

/** What the intake check and the pages need to know about a task. */
export interface TaskForIntake {
  id: number;
  slug: string;
  title: string;
  kind: "CLASSIFICATION" | "REGRESSION";
  inputSpec: TensorSpec[];
  outputSpec: TensorSpec[];
  maxModelBytes: number;
  dailySubmissionLimit: number;
  opensAt: Date | null;
  closesAt: Date | null;
  rankMetric: string;
  direction: "MAXIMIZE" | "MINIMIZE";
  privateRevealedAt: Date | null;
  /** the public board's freeze before closesAt, in minutes (0: none) */
  publicFreezeMinutes: number;
  /** K: how many final submissions a team may select */
  finalSubmissionLimit: number;
}

const taskSelect = {
  id: true,
  slug: true,
  title: true,
  kind: true,
  inputSpec: true,
  outputSpec: true,
  maxModelBytes: true,
  dailySubmissionLimit: true,
  opensAt: true,
  closesAt: true,
  rankMetric: true,
  direction: true,
  privateRevealedAt: true,
  publicFreezeMinutes: true,
  finalSubmissionLimit: true,
} as const;

export async function findTaskBySlug(slug: string): Promise<TaskForIntake | null> {
  const row = await db.task.findUnique({ where: { slug }, select: taskSelect });
  if (!row) return null;
  return { ...row, inputSpec: tensorSpecListSchema.parse(row.inputSpec), outputSpec: tensorSpecListSchema.parse(row.outputSpec) };
}

export async function requireTask(slug: string): Promise<TaskForIntake> {
  const task = await findTaskBySlug(slug);
  if (!task) throw new ApiError(404, "TASK_NOT_FOUND", `There is no task "${slug}".`);
  return task;
}

export type TaskPhase = "upcoming" | "open" | "closed";

export function taskPhase(task: Pick<TaskForIntake, "opensAt" | "closesAt">, now = new Date()): TaskPhase {
  if (task.opensAt && task.opensAt > now) return "upcoming";
  if (task.closesAt && task.closesAt <= now) return "closed";
  return "open";
}

/** Throws the 403 a participant gets when the task does not take submissions now. */
export function assertTaskOpen(task: TaskForIntake, now = new Date()): void {
  const phase = taskPhase(task, now);
  if (phase === "closed") {
    throw new ApiError(403, "TASK_CLOSED", `Task "${task.slug}" closed at ${task.closesAt!.toISOString()}; it takes no more submissions.`, {
      closedAt: task.closesAt!.toISOString(),
    });
  }
  if (phase === "upcoming") {
    throw new ApiError(403, "TASK_NOT_OPEN", `Task "${task.slug}" opens at ${task.opensAt!.toISOString()}.`, {
      opensAt: task.opensAt!.toISOString(),
    });
  }
}
