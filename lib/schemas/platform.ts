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
  board: z.enum(["public", "private"]).default("public").meta({ description: "private: once the organisers reveal it (else the public board comes back)" }),
});
