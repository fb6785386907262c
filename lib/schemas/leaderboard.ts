import { z } from "zod";

/** GET /api/tasks/{task}/leaderboard: ranks are computed in lib/leaderboard/board.ts. */
export const leaderboardEntrySchema = z
  .object({
    rank: z.number().int().meta({ description: "equal scores (compared rounded to 9 decimal places) share a rank (1, 1, 3)" }),
    teamId: z.number().int(),
    team: z.string(),
    score: z.number(),
    submissionId: z.number().int(),
    submittedAt: z.string(),
    submissionCount: z.number().int().meta({ description: "the team's submissions counted on this board (on the private board: its finals)" }),
    final: z.enum(["selected", "default"]).optional().meta({ description: "private board only: the counted submission is a final the team selected, or one of its default finals (its K best public)" }),
    publicRank: z.number().int().optional().meta({ description: "private board only: the team's rank on the public one" }),
    publicScore: z.number().optional(),
    interval: z
      .object({ low: z.number(), high: z.number() })
      .nullable()
      .meta({ description: "95% bootstrap interval of score (1,000 resamples of the board's test rows, percentile method; docs/ranking.md); null for results scored before intervals existed" }),
    statisticallyTied: z.boolean().meta({ description: "in the leader's tier: this team's interval overlaps the leader's (the leader included)" }),
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
    frozenFrom: z.string().nullable().meta({ description: "the public board counts only submissions created before this moment (null: no freeze, or revealed)" }),
    statisticallyTiedTeams: z.number().int().meta({ description: "teams in the leader's statistically tied tier, the leader included (0: no intervals)" }),
    formula: z.string().nullable().meta({ description: "the score formula the scores are computed with (docs/ranking.md); null: the metric's value" }),
    scoringVersion: z.number().int().meta({ description: "the task's current scoring version: only results of it rank (docs/ranking.md)" }),
    rescoring: z
      .object({ done: z.number().int(), total: z.number().int() })
      .nullable()
      .meta({ description: "while a scoring change is being applied: submissions re-scored so far (done) of those to re-score (total); null otherwise" }),
    entries: z.array(leaderboardEntrySchema),
  })
  .meta({ id: "Leaderboard" });

/** One page of a board, as the route answers it (lib/leaderboard/cache.ts, `pageOfBoard`). */
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

/** GET /api/tasks/{task}/leaderboard/viewer: the reader's own part of the leaderboard page (lib/leaderboard/viewer.ts). */
export const leaderboardViewerQuerySchema = z.object({
  board: z.enum(["public", "private"]).catch("public").meta({ description: "the board the page shows (private: once revealed, else the public one)" }),
});

export const leaderboardViewerSchema = z
  .object({
    user: z
      .object({ name: z.string(), role: z.enum(["PARTICIPANT", "ADMIN"]), team: z.object({ id: z.number().int(), name: z.string() }).nullable() })
      .nullable()
      .meta({ description: "the reader signed in by this browser's session cookie; null for anyone else (no cookie, an ended session; a token is not read here)" }),
    ownEntry: leaderboardEntrySchema.nullable().meta({ description: "the reader's team's row on the board (null: no team, or not ranked)" }),
    ownPublicScore: z.number().nullable().meta({ description: "the team's best score on the public board as it is shown (the freeze holds): its bar in the page's histogram" }),
    ownScores: z
      .array(z.object({ id: z.number().int(), score: z.number() }))
      .nullable()
      .meta({ description: "every scored submission of the team on this task, oldest first, with its public score (null: no team)" }),
  })
  .meta({ id: "LeaderboardViewer" });

/** GET and POST /api/tasks/{task}/finals: the team's final submissions (lib/leaderboard/finals.ts). */
export const finalSelectionSchema = z
  .object({
    task: z.string(),
    limit: z.number().int().meta({ description: "K: how many final submissions a team may select" }),
    closesAt: z.string().nullable().meta({ description: "the selection closes with the task" }),
    open: z.boolean().meta({ description: "whether the selection can still change" }),
    default: z.boolean().meta({ description: "true when the team selected none and its K best public submissions stand in" }),
    finals: z.array(z.number().int()).meta({ description: "the submissions the private board chooses from (selected, or default)" }),
    selected: z.array(z.object({ submissionId: z.number().int(), selectedAt: z.string(), selectedBy: z.string().nullable() })),
  })
  .meta({ id: "FinalSelection" });

export const finalSelectionRequestSchema = z
  .object({ submissionIds: z.array(z.number().int().positive()).meta({ description: "replaces the selection; [] goes back to the default finals" }) })
  .meta({ id: "FinalSelectionRequest" });
