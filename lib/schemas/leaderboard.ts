import { z } from "zod";

/** GET /api/tasks/{task}/leaderboard: ranks are computed in lib/leaderboard.ts. */
export const leaderboardEntrySchema = z
  .object({
    rank: z.number().int().meta({ description: "equal scores share a rank (1, 2, 2, 4)" }),
    teamId: z.number().int(),
    team: z.string(),
    score: z.number(),
    submissionId: z.number().int(),
    submittedAt: z.string(),
    entries: z.number().int().meta({ description: "the team's scored submissions" }),
    publicRank: z.number().int().optional().meta({ description: "private board only: the team's rank on the public one" }),
    publicScore: z.number().optional(),
    scoringVersion: z.number().int().meta({ description: "the scoring version of the counted result" }),
    olderScoring: z.boolean().meta({ description: "the result is of an older scoring version: its re-score under the current one failed, so it is kept" }),
  })
  .meta({ id: "LeaderboardEntry" });

export const leaderboardSchema = z
  .object({
    task: z.string(),
    metric: z.string(),
    direction: z.enum(["MAXIMIZE", "MINIMIZE"]),
    board: z.enum(["public", "private"]),
    revealed: z.boolean(),
    frozenFrom: z.string().nullable().meta({ description: "the public board counts only submissions created before this moment" }),
    formula: z.string().nullable().meta({ description: "the score formula the scores are computed with (docs/ranking.md); null: the metric's value" }),
    scoringVersion: z.number().int().meta({ description: "the task's current scoring version: only results of it rank (docs/ranking.md)" }),
    rescoring: z
      .object({ done: z.number().int(), total: z.number().int() })
      .nullable()
      .meta({ description: "while a scoring change is being applied: submissions re-scored so far (done) of those to re-score (total); null otherwise" }),
    entries: z.array(leaderboardEntrySchema),
  })
  .meta({ id: "Leaderboard" });

/** One page of a board, as the route answers it (lib/leaderboard-cache.ts, `pageOfBoard`). */
export const leaderboardPageSchema = leaderboardSchema
  .extend({
    page: z.number().int(),
    pageSize: z.number().int(),
    totalEntries: z.number().int().meta({ description: "rows that match the search (every ranked team when there is none)" }),
    totalPages: z.number().int(),
    search: z.string(),
    ownEntry: leaderboardEntrySchema.nullable().meta({ description: "the caller's team's row wherever it ranks (null: not signed in, no team, or not ranked)" }),
  })
  .meta({ id: "LeaderboardPage" });
