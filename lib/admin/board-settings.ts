import "server-only";
import type { SessionUser } from "../auth/session";
import { db } from "../db";
import { ApiError } from "../errors";
import { forgetLeaderboards } from "../leaderboard/cache";
import { boardSettingsRequestSchema } from "../schemas/board-settings";
import { recordAudit } from "./audit";
import { assertAdmin } from "./authorize";

/** Sets whether the task's boards show the reference row (the task editor sets it too); audited. */
export async function setBoardSettings(actor: SessionUser | null, slug: string, input: unknown): Promise<{ task: string; showReferenceOnBoards: boolean }> {
  assertAdmin(actor);
  const { showReferenceOnBoards } = boardSettingsRequestSchema.parse(input);
  const { count } = await db.task.updateMany({ where: { slug }, data: { showReferenceOnBoards } });
  if (count !== 1) throw new ApiError(404, "TASK_NOT_FOUND", `There is no task "${slug}".`);
  forgetLeaderboards(slug);
  await recordAudit(db, actor.id, "task.board_settings", `task:${slug}`, { showReferenceOnBoards });
  return { task: slug, showReferenceOnBoards };
}
