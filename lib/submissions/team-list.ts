import "server-only";
import type { ApiCaller } from "../auth/api-token";
import { db } from "../db";
import { ApiError } from "../errors";
import { finalSelectionForTeam, type FinalSelection } from "../leaderboard/finals";
import type { Prisma } from "@goat/contracts/db";
import { SUBMISSION_STATUSES } from "@goat/contracts/submission";
import { QueueSnapshot } from "../queue/wait-outlook";
import { submissionHistories, submissionViewSelect, toSubmissionView, type SubmissionStatusView } from "./status";
import { requireTask } from "../tasks/lookup";

/**
 * "My submissions": the caller's team's submissions for one task, newest first, a page at a time
 * and optionally of one status. Only the team's own rows, and only what the team may see: no
 * storage key, no private score before the reveal.
 */
export type TeamSubmissionRow = SubmissionStatusView & { submittedBy: string };

export type SubmissionStatusFilter = (typeof SUBMISSION_STATUSES)[number];

export const SUBMISSIONS_PAGE_SIZE = 20;

export interface TeamSubmissionsQuery {
  status?: SubmissionStatusFilter | null;
  /** 1-based; past the last page answers the last page */
  page?: number;
}

export interface TeamSubmissions {
  task: string;
  teamId: number;
  rankMetric: string;
  direction: "MAXIMIZE" | "MINIMIZE";
  status: SubmissionStatusFilter | null;
  page: number;
  pageCount: number;
  pageSize: number;
  /** rows matching the filter, over all pages */
  total: number;
  /** how many of the team's submissions are in each status (for the filter's labels) */
  counts: Record<SubmissionStatusFilter, number>;
  submissions: TeamSubmissionRow[];
  /** every scored submission's public score, oldest first: the chart spans all pages */
  scores: { id: number; score: number }[];
  /** the team's final submissions for the private board (docs/ranking.md) */
  finals: FinalSelection;
}

/** Reads `?status=` and `?page=` as the page and the JSON route take them; anything else is ignored. */
export function parseTeamSubmissionsQuery(params: URLSearchParams | Record<string, string | string[] | undefined>): TeamSubmissionsQuery {
  const get = (key: string) => {
    const value = params instanceof URLSearchParams ? params.get(key) : params[key];
    return Array.isArray(value) ? value[0] : (value ?? undefined);
  };
  const status = get("status")?.toUpperCase();
  const page = Number(get("page"));
  return {
    status: (SUBMISSION_STATUSES as readonly string[]).includes(status ?? "") ? (status as SubmissionStatusFilter) : null,
    page: Number.isSafeInteger(page) && page > 0 ? page : 1,
  };
}

/**
 * Every scored submission's public score of one team on one task, oldest first: the chart of "My
 * submissions" and of the leaderboard page (which needs nothing else of the team's list).
 */
export async function teamScoresForTask(teamId: number, taskSlug: string): Promise<{ id: number; score: number }[]> {
  // One statement: the ORM reads a relation in a second query.
  return db.$queryRaw<{ id: number; score: number }[]>`
    SELECT s.id, r.public_score AS score FROM submissions AS s JOIN results AS r ON r.submission_id = s.id JOIN tasks AS t ON t.id = s.task_id
    WHERE t.slug = ${taskSlug} AND s.team_id = ${teamId} AND s.status = 'SCORED' ORDER BY s.id`;
}

export async function teamSubmissionsForTask(caller: Pick<ApiCaller, "teamId">, taskSlug: string, query: TeamSubmissionsQuery = {}): Promise<TeamSubmissions> {
  const task = await requireTask(taskSlug);
  if (caller.teamId === null) throw new ApiError(403, "NO_TEAM", "You are in no team yet: create or join one on the team page.");
  const status = query.status ?? null;
  const teamRows: Prisma.SubmissionWhereInput = { taskId: task.id, teamId: caller.teamId };
  const where: Prisma.SubmissionWhereInput = status ? { ...teamRows, status } : teamRows;

  const [grouped, scores] = await Promise.all([
    db.submission.groupBy({ by: ["status"], where: teamRows, _count: { _all: true } }),
    teamScoresForTask(caller.teamId, task.slug),
  ]);
  const counts = Object.fromEntries(SUBMISSION_STATUSES.map((each) => [each, 0])) as Record<SubmissionStatusFilter, number>;
  for (const group of grouped) counts[group.status] = group._count._all;
  const total = status ? counts[status] : Object.values(counts).reduce((sum, count) => sum + count, 0);
  const pageCount = Math.max(1, Math.ceil(total / SUBMISSIONS_PAGE_SIZE));
  const page = Math.min(Math.max(1, query.page ?? 1), pageCount);

  const rows = await db.submission.findMany({
    where,
    orderBy: { id: "desc" },
    skip: (page - 1) * SUBMISSIONS_PAGE_SIZE,
    take: SUBMISSIONS_PAGE_SIZE,
    select: { ...submissionViewSelect, user: { select: { name: true } } },
  });
  const finals = await finalSelectionForTeam(caller, task.slug);
  const submissions: TeamSubmissionRow[] = [];
  const context = {
    snapshot: rows.some((row) => row.status === "QUEUED") ? await QueueSnapshot.read() : undefined,
    histories: await submissionHistories(rows.map((row) => row.id)),
    finals: new Map(finals.finals.map((id) => [id, finals.default ? ("default" as const) : ("selected" as const)])),
  };
  for (const row of rows) submissions.push({ ...(await toSubmissionView(row, task.slug, task, context)), submittedBy: row.user.name });
  return {
    task: task.slug,
    teamId: caller.teamId,
    rankMetric: task.rankMetric,
    direction: task.direction,
    status,
    page,
    pageCount,
    pageSize: SUBMISSIONS_PAGE_SIZE,
    total,
    counts,
    submissions,
    scores,
    finals,
  };
}
