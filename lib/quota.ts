import "server-only";
import type { Prisma } from "@/prisma/generated/client";

/**
 * Daily submission quota per team and task, counted in UTC days. Submissions that failed for a
 * platform fault or were cancelled by an organiser do not count: they never cost a team its quota.
 */
export interface QuotaState {
  limit: number;
  used: number;
  remaining: number;
  resetsAt: string;
}

export function utcDayStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

export function nextUtcMidnight(now: Date): Date {
  return new Date(utcDayStart(now).getTime() + 24 * 3600 * 1000);
}

type SubmissionCounter = { submission: Pick<Prisma.TransactionClient["submission"], "count"> };

export async function quotaState(
  client: SubmissionCounter,
  teamId: number,
  task: { id: number; dailySubmissionLimit: number },
  now = new Date(),
): Promise<QuotaState> {
  const used = await client.submission.count({
    where: {
      teamId,
      taskId: task.id,
      createdAt: { gte: utcDayStart(now) },
      status: { not: "CANCELLED" },
      NOT: { status: "FAILED", failureKind: "PLATFORM" },
    },
  });
  return {
    limit: task.dailySubmissionLimit,
    used,
    remaining: Math.max(0, task.dailySubmissionLimit - used),
    resetsAt: nextUtcMidnight(now).toISOString(),
  };
}
