import "server-only";
import type { Prisma } from "@/prisma/generated/client";

/**
 * Daily submission quota per team and task, counted in UTC days. Submissions that failed for a
 * platform fault or were cancelled by an organiser do not count: they never cost a team its quota;
 * neither do submissions marked quotaExempt (retried by an organiser after a platform fault, or
 * reference models), and an organiser's QuotaReset today restarts the count from its moment.
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

type SubmissionCounter = {
  submission: Pick<Prisma.TransactionClient["submission"], "count">;
  quotaReset: Pick<Prisma.TransactionClient["quotaReset"], "findFirst">;
};

export async function quotaState(
  client: SubmissionCounter,
  teamId: number,
  task: { id: number; dailySubmissionLimit: number },
  now = new Date(),
): Promise<QuotaState> {
  const dayStart = utcDayStart(now);
  // An organiser's reset today (for this task or for all) restarts the count from that moment.
  const reset = await client.quotaReset.findFirst({
    where: { teamId, at: { gte: dayStart }, OR: [{ taskId: task.id }, { taskId: null }] },
    orderBy: { at: "desc" },
    select: { at: true },
  });
  const used = await client.submission.count({
    where: {
      teamId,
      taskId: task.id,
      createdAt: { gte: reset && reset.at > dayStart ? reset.at : dayStart },
      status: { not: "CANCELLED" },
      // retried after a platform fault, or an organisers' reference model
      quotaExempt: false,
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
