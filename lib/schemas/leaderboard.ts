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
    interval: z
      .object({ low: z.number(), high: z.number() })
      .nullable()
      .meta({ description: "95% bootstrap interval of score (1,000 resamples of the board's test rows, percentile method; docs/ranking.md); null for results scored before intervals existed" }),
    statisticallyTied: z.boolean().meta({ description: "in the leader's tier: this team's interval overlaps the leader's (the leader included)" }),
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
    statisticallyTiedTeams: z.number().int().meta({ description: "teams in the leader's statistically tied tier, the leader included (0: no intervals)" }),
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
