import { z } from "zod";

/** PATCH /api/admin/tasks/{task}/board-settings: what a task's leaderboards show besides the teams (docs/ranking.md). */
export const boardSettingsRequestSchema = z
  .object({
    showReferenceOnBoards: z.boolean().meta({ description: "show the latest scored reference model as an unranked, labelled row on the boards" }),
  })
  .meta({ id: "BoardSettingsRequest" });

export const boardSettingsSchema = boardSettingsRequestSchema.extend({ task: z.string() }).meta({ id: "BoardSettings" });
