import "server-only";
import type { MetricValues } from "@goat/contracts/metrics";
import type { EvaluationReceipt } from "@goat/contracts/submission";
import type { ApiCaller } from "./auth/api-token";
import { db } from "./db";
import { ApiError } from "./errors";
import { queuePosition } from "./submissions";
import { requireTask } from "./tasks";

/**
 * "My submissions": the caller's team's submissions for one task, newest first. Only the team's
 * own rows, and only what the team may see: no storage key, no private score before the reveal.
 */
export interface TeamSubmissionRow {
  id: number;
  status: "QUEUED" | "RUNNING" | "SCORED" | "FAILED" | "CANCELLED";
  queuePosition: number | null;
  fileName: string;
  sha256: string;
  sizeBytes: number;
  submittedBy: string;
  attempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  failureKind: "PARTICIPANT" | "PLATFORM" | null;
  message: string | null;
  result: {
    score: number;
    metrics: MetricValues;
    privateScore?: number;
    latencyP50Ms: number;
    latencyP95Ms: number;
    paramCount: number;
    evaluationMs: number | null;
  } | null;
}

export interface TeamSubmissions {
  task: string;
  teamId: number;
  rankMetric: string;
  direction: "MAXIMIZE" | "MINIMIZE";
  submissions: TeamSubmissionRow[];
}

/** Newest first; the page shows this many (a team has at most dailySubmissionLimit a day). */
const MAX_ROWS = 500;

export async function teamSubmissionsForTask(caller: Pick<ApiCaller, "teamId">, taskSlug: string): Promise<TeamSubmissions> {
  const task = await requireTask(taskSlug);
  if (caller.teamId === null) throw new ApiError(403, "NO_TEAM", "You are in no team yet: create or join one on the team page.");
  const rows = await db.submission.findMany({
    where: { taskId: task.id, teamId: caller.teamId },
    orderBy: { id: "desc" },
    take: MAX_ROWS,
    select: {
      id: true,
      status: true,
      fileName: true,
      sha256: true,
      sizeBytes: true,
      attempts: true,
      createdAt: true,
      startedAt: true,
      finishedAt: true,
      failureKind: true,
      message: true,
      user: { select: { name: true } },
      result: { select: { publicScore: true, publicMetrics: true, privateScore: true, latencyP50Ms: true, latencyP95Ms: true, paramCount: true, receipt: true } },
    },
  });
  const revealed = task.privateRevealedAt !== null;
  const submissions: TeamSubmissionRow[] = [];
  for (const row of rows) {
    const receipt = row.result?.receipt as unknown as EvaluationReceipt | undefined;
    submissions.push({
      id: row.id,
      status: row.status,
      queuePosition: row.status === "QUEUED" ? await queuePosition(row.id) : null,
      fileName: row.fileName,
      sha256: row.sha256,
      sizeBytes: row.sizeBytes,
      submittedBy: row.user.name,
      attempts: row.attempts,
      createdAt: row.createdAt.toISOString(),
      startedAt: row.startedAt?.toISOString() ?? null,
      finishedAt: row.finishedAt?.toISOString() ?? null,
      failureKind: row.failureKind,
      message: row.message,
      result:
        row.result && row.status === "SCORED"
          ? {
              score: row.result.publicScore,
              metrics: row.result.publicMetrics as MetricValues,
              ...(revealed ? { privateScore: row.result.privateScore } : {}),
              latencyP50Ms: row.result.latencyP50Ms,
              latencyP95Ms: row.result.latencyP95Ms,
              paramCount: Number(row.result.paramCount),
              evaluationMs: receipt?.timings?.totalMs ?? null,
            }
          : null,
    });
  }
  return { task: task.slug, teamId: caller.teamId, rankMetric: task.rankMetric, direction: task.direction, submissions };
}
