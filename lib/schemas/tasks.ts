import { z } from "zod";

/** What anyone may know of a task (never its dataset paths or split seed): GET /api/tasks. */
export const taskSummarySchema = z
  .object({
    slug: z.string(),
    title: z.string(),
    kind: z.enum(["CLASSIFICATION", "REGRESSION"]),
    phase: z.enum(["upcoming", "open", "closed"]),
    opensAt: z.string().nullable(),
    closesAt: z.string().nullable(),
    rankMetric: z.string().meta({ description: "the metric that ranks the leaderboard" }),
    direction: z.enum(["MAXIMIZE", "MINIMIZE"]),
    teams: z.number().int().meta({ description: "teams with at least one scored submission" }),
  })
  .meta({ id: "TaskSummary" });

export const taskListSchema = z.object({ tasks: z.array(taskSummarySchema) }).meta({ id: "TaskList" });
