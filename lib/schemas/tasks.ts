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

/** PATCH /api/admin/tasks/{task}: any of the task's settings, in the API's units (bytes, ms); a field left out stays. */
export const taskUpdateRequestSchema = z
  .object({
    title: z.string(),
    description: z.string(),
    inputSpec: z.unknown(),
    outputSpec: z.unknown(),
    metrics: z.array(z.string()),
    rankMetric: z.string(),
    direction: z.enum(["MAXIMIZE", "MINIMIZE"]),
    topK: z.number(),
    maxModelBytes: z.number(),
    dailySubmissionLimit: z.number(),
    evalTimeoutMs: z.number(),
    evalMemoryMb: z.number(),
    batchSize: z.number(),
    maxRunningPerTeam: z.number(),
    opensAt: z.string().nullable(),
    closesAt: z.string().nullable(),
    publicFraction: z.number().meta({ description: "must leave at least one test row on each side of the split" }),
    publicFreezeMinutes: z.number().int().min(0).max(100_000),
    scoreFormula: z.string().nullable().meta({ description: "rank by this formula over the metrics and efficiency figures (docs/ranking.md); null: the metric" }),
    confirmRescore: z.boolean().meta({ description: "must be true when the update changes the scoring of a task with evaluated submissions (else 409)" }),
  })
  .partial()
  .strict()
  .meta({ id: "TaskUpdateRequest" });

export const taskUpdateAnswerSchema = z
  .object({
    slug: z.string(),
    scoringVersion: z.number().int().meta({ description: "the task's scoring version after the update" }),
    changed: z.array(z.string()).meta({ description: "the scoring settings that changed (empty: none)" }),
    rescoring: z.number().int().meta({ description: "submissions queued for a re-score by this update" }),
    warnings: z.array(z.string()).meta({
      description: "saved, but worth the organiser's attention: e.g. a memory limit larger than a live worker's room for a model (such a model fails there as a platform fault)",
    }),
  })
  .meta({ id: "TaskUpdateAnswer" });
