import "server-only";
import type { ApiCaller } from "./auth/api-token";
import { db } from "./db";
import { ApiError } from "./errors";
import { QueueSnapshot } from "./queue/wait-outlook";
import { submissionHistories, submissionViewSelect, toSubmissionView, type SubmissionStatusView } from "./submissions";
import { requireTask } from "./tasks";

/**
 * "My submissions": the caller's team's submissions for one task, newest first. Only the team's
 * own rows, and only what the team may see: no storage key, no private score before the reveal.
 */
export type TeamSubmissionRow = SubmissionStatusView & { submittedBy: string };

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
    select: { ...submissionViewSelect, user: { select: { name: true } } },
  });
  const revealed = task.privateRevealedAt !== null;
  const submissions: TeamSubmissionRow[] = [];
  const context = {
    snapshot: rows.some((row) => row.status === "QUEUED") ? await QueueSnapshot.read() : undefined,
    histories: await submissionHistories(rows.map((row) => row.id)),
  };
  for (const row of rows) submissions.push({ ...(await toSubmissionView(row, task.slug, revealed, context)), submittedBy: row.user.name });
  return { task: task.slug, teamId: caller.teamId, rankMetric: task.rankMetric, direction: task.direction, submissions };
}
