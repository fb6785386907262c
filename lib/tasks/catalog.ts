import "server-only";
import { tensorSpecListSchema, type TensorSpec } from "@goat/contracts/tensor-spec";
import { db } from "../db";
import { quotaState, type QuotaState } from "../quota/daily-quota";
import { effectiveMergeDeadline } from "../teams/rules";
import { taskPhase, type TaskPhase } from "./lookup";

/**
 * What the task list and the task page show: public facts about a task (never its dataset
 * paths, split seed or anything that would help reconstruct the test labels).
 */
export interface TaskSummary {
  slug: string;
  title: string;
  kind: "CLASSIFICATION" | "REGRESSION";
  phase: TaskPhase;
  opensAt: string | null;
  closesAt: string | null;
  rankMetric: string;
  direction: "MAXIMIZE" | "MINIMIZE";
  teams: number;
}

export interface TaskDetail extends TaskSummary {
  description: string;
  inputSpec: TensorSpec[];
  outputSpec: TensorSpec[];
  metrics: string[];
  topK: number;
  maxModelBytes: number;
  dailySubmissionLimit: number;
  evalTimeoutMs: number;
  evalMemoryMb: number;
  publicFraction: number;
  hasTrainingData: boolean;
  privateRevealedAt: string | null;
  /** when team changes close for whoever has submitted (lib/teams/rules.ts), and whether it is the default (the opening) */
  teamMerge: { closesAt: string; byDefault: boolean };
  /** the public board's freeze before the close, in minutes (0: none) */
  publicFreezeMinutes: number;
  /** K: how many final submissions a team may select */
  finalSubmissionLimit: number;
}

const PHASE_ORDER: Record<TaskPhase, number> = { open: 0, upcoming: 1, closed: 2 };

type SummaryRow = Pick<TaskSummary, "slug" | "title" | "kind" | "rankMetric" | "direction"> & { opensAt: Date | null; closesAt: Date | null };

function toTaskSummary(row: SummaryRow, teams: number, now: Date): TaskSummary {
  return {
    slug: row.slug,
    title: row.title,
    kind: row.kind,
    phase: taskPhase(row, now),
    opensAt: row.opensAt?.toISOString() ?? null,
    closesAt: row.closesAt?.toISOString() ?? null,
    rankMetric: row.rankMetric,
    direction: row.direction,
    teams,
  };
}

export async function taskCatalog(now = new Date()): Promise<TaskSummary[]> {
  const rows = await db.task.findMany({
    select: { id: true, slug: true, title: true, kind: true, opensAt: true, closesAt: true, rankMetric: true, direction: true },
    orderBy: { id: "asc" },
  });
  // Teams on the public board: a team whose only scores came after the freeze is not counted
  // until the reveal (docs/ranking.md "The freeze").
  const teamCounts = await db.leaderboardEntry.groupBy({ by: ["taskId"], where: { board: "PUBLIC" }, _count: { _all: true } });
  const teams = new Map(teamCounts.map((row) => [row.taskId, row._count._all]));
  return rows
    .map((row) => toTaskSummary(row, teams.get(row.id) ?? 0, now))
    .sort((a, b) => PHASE_ORDER[a.phase] - PHASE_ORDER[b.phase]);
}

export async function taskDetail(slug: string, now = new Date()): Promise<(TaskDetail & { id: number }) | null> {
  const row = await db.task.findUnique({
    where: { slug },
    select: {
      id: true,
      slug: true,
      title: true,
      kind: true,
      description: true,
      inputSpec: true,
      outputSpec: true,
      metrics: true,
      rankMetric: true,
      direction: true,
      topK: true,
      maxModelBytes: true,
      dailySubmissionLimit: true,
      evalTimeoutMs: true,
      evalMemoryMb: true,
      opensAt: true,
      closesAt: true,
      publicFraction: true,
      trainingDataFile: true,
      privateRevealedAt: true,
      teamMergeDeadline: true,
      createdAt: true,
      publicFreezeMinutes: true,
      finalSubmissionLimit: true,
    },
  });
  if (!row) return null;
  const teams = await db.leaderboardEntry.count({ where: { taskId: row.id, board: "PUBLIC" } });
  return {
    id: row.id,
    ...toTaskSummary(row, teams, now),
    description: row.description,
    inputSpec: tensorSpecListSchema.parse(row.inputSpec),
    outputSpec: tensorSpecListSchema.parse(row.outputSpec),
    metrics: row.metrics,
    topK: row.topK,
    maxModelBytes: row.maxModelBytes,
    dailySubmissionLimit: row.dailySubmissionLimit,
    evalTimeoutMs: row.evalTimeoutMs,
    evalMemoryMb: row.evalMemoryMb,
    publicFraction: row.publicFraction,
    hasTrainingData: row.trainingDataFile !== null,
    privateRevealedAt: row.privateRevealedAt?.toISOString() ?? null,
    teamMerge: { closesAt: effectiveMergeDeadline(row).toISOString(), byDefault: row.teamMergeDeadline === null },
    publicFreezeMinutes: row.publicFreezeMinutes,
    finalSubmissionLimit: row.finalSubmissionLimit,
  };
}

/** The team's quota for the task today, or null for a visitor without a team. */
export async function teamQuotaForTask(teamId: number | null, task: { id: number; dailySubmissionLimit: number }): Promise<QuotaState | null> {
  if (teamId === null) return null;
  return quotaState(db, teamId, task);
}

/** The id of the team's newest submission to the task (for the status example), or null. */
export async function latestTeamSubmissionId(teamId: number | null, taskId: number): Promise<number | null> {
  if (teamId === null) return null;
  const row = await db.submission.findFirst({ where: { teamId, taskId, isReference: false }, orderBy: { id: "desc" }, select: { id: true } });
  return row?.id ?? null;
}
