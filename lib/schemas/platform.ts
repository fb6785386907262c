import { z } from "zod";

/** GET /api/health */
export const healthSchema = z
  .object({
    status: z.enum(["ok", "unavailable"]).meta({ description: '"ok" when Postgres and Redis answer; what failed is in the server log only' }),
  })
  .meta({ id: "Health" });

/** GET /api/admin/tasks/{task}/export: the query the route validates. */
export const exportQuerySchema = z.object({
  kind: z.enum(["leaderboard", "private-leaderboard", "submissions"]).default("leaderboard"),
  format: z.enum(["csv", "json"]).default("csv"),
});

/** GET /api/tasks/{task}/leaderboard: which board. */
export const leaderboardQuerySchema = z.object({
  board: z.enum(["public", "private"]).catch("public").meta({ description: "private: once the organisers reveal it (else the public board comes back); anything else is the public board" }),
  page: z.coerce.number().int().min(1).max(100_000).default(1).meta({ description: "1-based page" }),
  pageSize: z.coerce.number().int().min(1).max(1000).default(100).meta({ description: "rows per page (at most 1,000: more is a 422)" }),
  search: z.string().trim().max(100).default("").meta({ description: "only teams whose name contains this (ranks stay those of the whole board)" }),
});
