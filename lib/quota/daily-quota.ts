import "server-only";
import type { Prisma } from "@goat/contracts/db";

/**
 * Daily submission quota per team and task, counted in UTC days (docs/ranking.md, "Teams and daily
 * quota"). A team's count for the day is every counted submission of the task made that day either
 * by the team (whoever made it, members who left since included) or by anyone who is a member of
 * the team now, in whatever team they made it: leaving a team and creating or joining another
 * carries a person's submissions of the day along, so hopping gives no fresh quota.
 *
 * Submissions that failed for a platform fault or were cancelled by an organiser do not count:
 * they never cost a team its quota; neither do submissions marked quotaExempt (retried by an
 * organiser after a platform fault, or reference models), and an organiser's QuotaReset today
 * restarts the team's count from its moment.
 */
export interface QuotaState {
  limit: number;
  used: number;
  /** of `used`, the submissions current members made today while in another team */
  usedInOtherTeams: number;
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
  const counted = {
    taskId: task.id,
    createdAt: { gte: reset && reset.at > dayStart ? reset.at : dayStart },
    status: { not: "CANCELLED" },
    // retried after a platform fault, or an organisers' reference model
    quotaExempt: false,
    NOT: { status: "FAILED", failureKind: "PLATFORM" },
  } satisfies Prisma.SubmissionWhereInput;
  // The team's own, then its current members' made in other teams (one after the other: the
  // client may be an interactive transaction, which runs one query at a time).
  const own = await client.submission.count({ where: { ...counted, teamId } });
  const inOtherTeams = await client.submission.count({ where: { ...counted, teamId: { not: teamId }, user: { membership: { is: { teamId } } } } });
  const used = own + inOtherTeams;
  return {
    limit: task.dailySubmissionLimit,
    used,
    usedInOtherTeams: inOtherTeams,
    remaining: Math.max(0, task.dailySubmissionLimit - used),
    resetsAt: nextUtcMidnight(now).toISOString(),
  };
}
