import { SUBMISSION_STATUSES } from "@goat/contracts/submission";
import { z } from "zod";
import { finalSelectionSchema } from "./leaderboard";

/** The answers about submissions: what a team may see of its own (never storage keys or others' rows). */
const metricValuesSchema = z.record(z.string(), z.number()).meta({ id: "MetricValues", description: "metric name to value, e.g. { accuracy: 0.91 }" });

const quotaSchema = z
  .object({
    limit: z.number().int(),
    used: z.number().int(),
    usedInOtherTeams: z.number().int().meta({ description: "of used: submissions the team's current members made today while in another team (they count here too)" }),
    remaining: z.number().int(),
    resetsAt: z.string(),
  })
  .meta({ id: "Quota", description: "the team's submissions for this task today (UTC), with those its current members made in other teams today" });

export const evaluationReceiptSchema = z
  .looseObject({
    modelSha256: z.string(),
    onnxruntimeVersion: z.string(),
    executionProvider: z.enum(["cuda", "cpu"]),
    device: z.string(),
    workerId: z.string(),
    batchSize: z.number().int(),
    rows: z.number().int(),
    datasetVersion: z.string().nullable(),
    timings: z.looseObject({ totalMs: z.number(), sessionMs: z.number(), inferenceMs: z.number(), sandboxWaitMs: z.number() }),
  })
  .meta({ id: "EvaluationReceipt", description: "how a score was computed, so it can be reproduced and trusted" });

const waitReasonsSchema = z
  .array(
    z.object({
      code: z.enum(["QUEUE_PAUSED", "NO_WORKER_ONLINE", "TEAM_AT_LIMIT"]),
      message: z.string(),
    }),
  )
  .meta({ id: "WaitReasons", description: "why a queued submission is not running yet; empty when it simply waits its turn" });

const etaSecondsSchema = z
  .number()
  .int()
  .nullable()
  .meta({ description: "seconds until the evaluation starts: ceil(position / workers online) x the median of the task's last 20 evaluation times; null (unknown) without data, workers, or while paused" });

const submissionStatusNameSchema = z.enum(SUBMISSION_STATUSES);

export const submissionStatusSchema = z
  .object({
    id: z.number().int(),
    task: z.string(),
    status: submissionStatusNameSchema,
    queuePosition: z.number().int().nullable().meta({ description: "1 = next, in the fair order the scheduler serves; null unless QUEUED" }),
    etaSeconds: etaSecondsSchema,
    waitReasons: waitReasonsSchema,
    history: z
      .array(z.object({ action: z.enum(["cancelled", "retried"]), by: z.string(), at: z.string() }))
      .meta({ description: "the organisers' cancels and retries of this submission, oldest first" }),
    fileName: z.string(),
    name: z.string().nullable().meta({ description: "the team's name for this submission (at most 100 characters), set at upload or later" }),
    description: z.string().nullable().meta({ description: "the team's notes on this submission (at most 1000 characters)" }),
    sha256: z.string(),
    sizeBytes: z.number().int(),
    attempts: z.number().int(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    failureKind: z.enum(["PARTICIPANT", "PLATFORM"]).nullable().meta({ description: "PARTICIPANT: the model's fault; PLATFORM: ours (never counts against the quota)" }),
    message: z.string().nullable(),
    afterFreeze: z.boolean().meta({ description: "made after the public freeze point: its score shows to your team only, until the private board is revealed" }),
    final: z.enum(["selected", "default"]).nullable().meta({ description: "one of your team's final submissions: selected, or a default final (your K best public); null: not a final" }),
    result: z
      .object({
        score: z.number().meta({ description: "the public score (the task's rank metric, or its score formula's value: docs/ranking.md)" }),
        metrics: metricValuesSchema,
        privateScore: z.number().optional().meta({ description: "present once the organisers reveal the private leaderboard" }),
        privateMetrics: metricValuesSchema.optional(),
        latencyP50Ms: z.number(),
        latencyP95Ms: z.number(),
        modelBytes: z.number().int(),
        paramCount: z.number().int(),
        peakMemoryBytes: z
          .number()
          .int()
          .nullable()
          .meta({ description: "the most memory the model used, over the sandbox's own (runtime and test inputs loaded); null for results from before it was measured" }),
        peakGpuMemoryBytes: z.number().int().nullable().meta({ description: "the most GPU memory the evaluation process used (nvidia-smi); null when the model did not run on a GPU" }),
        evaluationMs: z.number().nullable(),
        receipt: evaluationReceiptSchema,
      })
      .nullable(),
  })
  .meta({ id: "SubmissionStatus" });

export const teamSubmissionsSchema = z
  .object({
    task: z.string(),
    teamId: z.number().int(),
    rankMetric: z.string(),
    direction: z.enum(["MAXIMIZE", "MINIMIZE"]),
    status: submissionStatusNameSchema.nullable().meta({ description: "the ?status= filter, or null for every status" }),
    page: z.number().int().meta({ description: "1-based; past the last page answers the last page" }),
    pageCount: z.number().int(),
    pageSize: z.number().int(),
    total: z.number().int().meta({ description: "rows matching the filter, over all pages" }),
    counts: z.record(submissionStatusNameSchema, z.number().int()).meta({ description: "the team's submissions in each status" }),
    submissions: z.array(submissionStatusSchema.extend({ submittedBy: z.string() })),
    scores: z.array(z.object({ id: z.number().int(), score: z.number() })).meta({ description: "every scored submission's public score, oldest first (all pages)" }),
    finals: finalSelectionSchema,
  })
  .meta({ id: "TeamSubmissions" });

export const acceptedSubmissionSchema = z
  .object({
    id: z.number().int(),
    task: z.string(),
    status: z.literal("QUEUED"),
    statusUrl: z.string(),
    queuePosition: z.number().int(),
    fileName: z.string(),
    name: z.string().nullable().meta({ description: "the team's name for this submission (at most 100 characters), set at upload or later" }),
    description: z.string().nullable().meta({ description: "the team's notes on this submission (at most 1000 characters)" }),
    sha256: z.string(),
    sizeBytes: z.number().int(),
    createdAt: z.string(),
    quota: quotaSchema,
  })
  .meta({ id: "AcceptedSubmission" });

export const queueStatusSchema = z
  .object({
    waiting: z.number().int(),
    running: z.number().int(),
    delayed: z.number().int(),
    workersOnline: z.number().int(),
    yourSubmissions: z.array(
      z.object({
        id: z.number().int(),
        task: z.string(),
        status: z.enum(["QUEUED", "RUNNING"]),
        queuePosition: z.number().int().nullable(),
        etaSeconds: etaSecondsSchema,
        waitReasons: waitReasonsSchema,
        createdAt: z.string(),
      }),
    ),
  })
  .meta({ id: "QueueStatus" });

export const teamSubmissionsQuerySchema = z.object({
  status: submissionStatusNameSchema.optional().meta({ description: "only submissions in this status" }),
  page: z.coerce.number().int().min(1).optional().meta({ description: "1-based page of 20 rows" }),
});

/** PATCH /api/tasks/{task}/submissions/{id}: a field left out stays as it is; "" clears it. */
export const submissionLabelsRequestSchema = z
  .object({ name: z.string().max(100).nullable().optional(), description: z.string().max(1000).nullable().optional() })
  .meta({ id: "SubmissionLabelsRequest" });
export const submissionLabelsAnswerSchema = z
  .object({ id: z.number().int(), task: z.string(), name: z.string().nullable(), description: z.string().nullable() })
  .meta({ id: "SubmissionLabels" });

export const announcementsSchema = z
  .object({
    task: z.string(),
    announcements: z.array(
      z.object({
        id: z.number().int(),
        body: z.string(),
        task: z.string().nullable().meta({ description: "null: event-wide" }),
        createdAt: z.string(),
      }),
    ),
  })
  .meta({ id: "Announcements" });
