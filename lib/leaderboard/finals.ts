import "server-only";
import { z } from "zod";
import type { ApiCaller } from "../auth/api-token";
import { db } from "../db";
import { ApiError } from "../errors";
import { forgetLeaderboards } from "./cache";
import { requireTask, taskPhase, type TaskForIntake } from "../tasks/lookup";

/**
 * Final submissions (docs/ranking.md "Final submissions", Kaggle's rule): each team selects up to K
 * of its own scored submissions of a task (K = the task's finalSubmissionLimit) before the task
 * closes; the private board ranks the team by the best private score among them. A team that
 * selects none gets its K best public ones. The rule itself lives in Postgres
 * (`leaderboard_refresh`), which records each team's finals on its private board row; this module
 * reads and replaces a team's selection.
 */
export interface FinalSelection {
  task: string;
  /** K */
  limit: number;
  closesAt: string | null;
  /** whether the selection can still change (until the task closes) */
  open: boolean;
  /** true when the team selected nothing and its K best public submissions stand in */
  default: boolean;
  /** the submissions the private board chooses from: the selected ones, or the default ones */
  finals: number[];
  /** the team's own choices, with who made each and when */
  selected: { submissionId: number; selectedAt: string; selectedBy: string | null }[];
}

export type FinalKind = "selected" | "default";

/** The team's finals on the task, by submission id (what its private board row records). */
export async function finalKindsForTeam(taskId: number, teamId: number): Promise<Map<number, FinalKind>> {
  const row = await db.leaderboardEntry.findUnique({
    where: { taskId_board_teamId: { taskId, board: "PRIVATE", teamId } },
    select: { finalKind: true, finalSubmissionIds: true },
  });
  const kind: FinalKind = row?.finalKind === "SELECTED" ? "selected" : "default";
  return new Map((row?.finalSubmissionIds ?? []).map((id) => [id, kind]));
}

export const finalSelectionBodySchema = z.object({
  submissionIds: z.array(z.number().int().positive()).max(1_000),
});

function requireTeam(caller: Pick<ApiCaller, "teamId">): number {
  if (caller.teamId === null) throw new ApiError(403, "NO_TEAM", "You are in no team yet: create or join one on the team page.");
  return caller.teamId;
}

async function readSelection(task: TaskForIntake, teamId: number, now: Date): Promise<FinalSelection> {
  const [selected, privateRow] = await Promise.all([
    db.finalSelection.findMany({
      where: { taskId: task.id, teamId },
      orderBy: { submissionId: "asc" },
      select: { submissionId: true, selectedAt: true, selectedBy: { select: { name: true } } },
    }),
    db.leaderboardEntry.findUnique({
      where: { taskId_board_teamId: { taskId: task.id, board: "PRIVATE", teamId } },
      select: { finalKind: true, finalSubmissionIds: true },
    }),
  ]);
  return {
    task: task.slug,
    limit: task.finalSubmissionLimit,
    closesAt: task.closesAt?.toISOString() ?? null,
    open: taskPhase(task, now) !== "closed",
    default: privateRow ? privateRow.finalKind === "DEFAULT" : selected.length === 0,
    finals: privateRow?.finalSubmissionIds ?? [],
    selected: selected.map((row) => ({ submissionId: row.submissionId, selectedAt: row.selectedAt.toISOString(), selectedBy: row.selectedBy?.name ?? null })),
  };
}

/** The caller's team's finals for the task. */
export async function finalSelectionForTeam(caller: Pick<ApiCaller, "teamId">, taskSlug: string, now = new Date()): Promise<FinalSelection> {
  const task = await requireTask(taskSlug);
  return readSelection(task, requireTeam(caller), now);
}

/**
 * Replaces the team's selection with `submissionIds` (an empty list goes back to the default). Each
 * must be one of the team's SCORED submissions of the task, at most K of them, and the task must not
 * have closed. A submission kept from the previous selection keeps who chose it and when.
 */
export async function selectFinalSubmissions(
  caller: Pick<ApiCaller, "teamId" | "userId">,
  taskSlug: string,
  body: unknown,
  now = new Date(),
): Promise<FinalSelection> {
  const task = await requireTask(taskSlug);
  const teamId = requireTeam(caller);
  const parsed = finalSelectionBodySchema.safeParse(body);
  if (!parsed.success) {
    throw new ApiError(422, "VALIDATION_FAILED", 'Send JSON such as { "submissionIds": [12, 15] } (an empty list goes back to the default finals).');
  }
  if (taskPhase(task, now) === "closed") {
    throw new ApiError(409, "SELECTION_CLOSED", `Task "${task.slug}" closed at ${task.closesAt!.toISOString()}; final submissions can no longer change.`, {
      closedAt: task.closesAt!.toISOString(),
    });
  }
  const ids = [...new Set(parsed.data.submissionIds)];
  if (ids.length > task.finalSubmissionLimit) {
    throw new ApiError(422, "VALIDATION_FAILED", `Select at most ${task.finalSubmissionLimit} final submissions for task "${task.slug}"; you sent ${ids.length}.`, {
      limit: task.finalSubmissionLimit,
    });
  }
  await db.$transaction(async (tx) => {
    // The same lock leaderboard_refresh takes for this team, so two selections take turns.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${task.id}::int, ${teamId}::int)`;
    const eligible = await tx.submission.findMany({
      where: { id: { in: ids }, taskId: task.id, teamId, status: "SCORED", isReference: false, result: { isNot: null } },
      select: { id: true },
    });
    const eligibleIds = new Set(eligible.map((row) => row.id));
    const refused = ids.filter((id) => !eligibleIds.has(id));
    if (refused.length) {
      throw new ApiError(422, "VALIDATION_FAILED", `Only your team's scored submissions of task "${task.slug}" can be finals; not: ${refused.join(", ")}.`, {
        notEligible: refused,
      });
    }
    await tx.finalSelection.deleteMany({ where: { taskId: task.id, teamId, submissionId: { notIn: ids } } });
    await tx.finalSelection.createMany({
      data: ids.map((submissionId) => ({ submissionId, taskId: task.id, teamId, selectedById: caller.userId, selectedAt: now })),
      skipDuplicates: true,
    });
  });
  // Postgres has refreshed the team's private row; this process drops its copies of the boards.
  forgetLeaderboards(task.slug);
  return readSelection(task, teamId, now);
}
