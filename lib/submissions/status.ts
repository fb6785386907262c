import "server-only";
import type { MetricValues } from "@goat/contracts/metrics";
import { participantMessage } from "@goat/contracts/participant-message";
import type { EvaluationReceipt } from "@goat/contracts/submission";
import type { ApiCaller } from "../auth/api-token";
import type { Prisma, SubmissionStatus } from "@goat/contracts/db";
import { db } from "../db";
import { ApiError } from "../errors";
import { finalKindsForTeam, type FinalKind } from "../leaderboard/finals";
import { hiddenByFreeze } from "../leaderboard/board";
import { QueueSnapshot, waitingInServiceOrder, type WaitReason } from "../queue/wait-outlook";

/**
 * Queue position of a QUEUED submission in the order the scheduler serves (QueueSnapshot, the fair
 * order of @goat/contracts/fair-queue); Postgres, not Redis, is the source of truth.
 */
export async function queuePosition(submissionId: number): Promise<number> {
  const order = await waitingInServiceOrder();
  const index = order.findIndex((row) => row.id === submissionId);
  return index + 1 || order.length + 1;
}

/** An organiser's action on a submission, from the audit log: who and when (a cancel, a retry). */
export interface SubmissionHistoryEntry {
  action: "cancelled" | "retried";
  by: string;
  at: string;
}

const HISTORY_ACTIONS = { "submission.cancel": "cancelled", "submission.retry": "retried" } as const;

/** The histories of several submissions in one query. */
export async function submissionHistories(submissionIds: number[]): Promise<Map<number, SubmissionHistoryEntry[]>> {
  const rows = await db.auditLogEntry.findMany({
    where: { target: { in: submissionIds.map((id) => `submission:${id}`) }, action: { in: Object.keys(HISTORY_ACTIONS) } },
    orderBy: { id: "asc" },
    select: { action: true, target: true, at: true, actor: { select: { name: true } } },
  });
  const histories = new Map<number, SubmissionHistoryEntry[]>(submissionIds.map((id) => [id, []]));
  for (const row of rows) {
    histories.get(Number(row.target.slice("submission:".length)))?.push({
      action: HISTORY_ACTIONS[row.action as keyof typeof HISTORY_ACTIONS],
      // Participants see the organiser's display name, never an e-mail address.
      by: row.actor?.name ? `${row.actor.name} (organiser)` : "the organisers",
      at: row.at.toISOString(),
    });
  }
  return histories;
}

/** Read once for a list of views: the queue's order and state, the organisers' actions, the team's finals. */
export interface SubmissionViewContext {
  snapshot?: QueueSnapshot;
  histories?: Map<number, SubmissionHistoryEntry[]>;
  finals?: Map<number, FinalKind>;
}

/** What of the task decides what its team sees of a submission: the reveal and the freeze. */
export interface SubmissionTaskRules {
  closesAt: Date | null;
  publicFreezeMinutes: number;
  privateRevealedAt: Date | null;
}

export interface SubmissionStatusView {
  id: number;
  task: string;
  status: SubmissionStatus;
  queuePosition: number | null;
  /** seconds until its evaluation starts (QUEUED only); null when unknown */
  etaSeconds: number | null;
  /** why it is not running yet, in words (QUEUED only) */
  waitReasons: WaitReason[];
  /** organisers' cancels and retries of it, oldest first */
  history: SubmissionHistoryEntry[];
  fileName: string;
  /** the team's own label and notes (null: none) */
  name: string | null;
  description: string | null;
  sha256: string;
  sizeBytes: number;
  attempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  failureKind: "PARTICIPANT" | "PLATFORM" | null;
  message: string | null;
  /** made after the public freeze point: its score shows to its team only, until the private board is revealed */
  afterFreeze: boolean;
  /** one of the team's final submissions: selected by the team, or a default final (null: not a final) */
  final: FinalKind | null;
  result: {
    score: number;
    metrics: MetricValues;
    /** present once the organisers reveal the private leaderboard */
    privateScore?: number;
    privateMetrics?: MetricValues;
    latencyP50Ms: number;
    latencyP95Ms: number;
    modelBytes: number;
    paramCount: number;
    /** the model's peak resident memory over the sandbox's baseline; null for results from before it was measured */
    peakMemoryBytes: number | null;
    /** the sandbox process's peak GPU memory (nvidia-smi); null off the GPU */
    peakGpuMemoryBytes: number | null;
    /** claim to scores computed, before the result is written (the receipt's timings.totalMs) */
    evaluationMs: number | null;
    receipt: EvaluationReceipt;
  } | null;
}

/** What a team may see of its submission (never the storage key); shared by the API and the pages. */
export const submissionViewSelect = {
  id: true,
  taskId: true,
  teamId: true,
  status: true,
  fileName: true,
  name: true,
  description: true,
  sha256: true,
  sizeBytes: true,
  attempts: true,
  createdAt: true,
  startedAt: true,
  finishedAt: true,
  failureKind: true,
  message: true,
  result: {
    select: {
      publicScore: true,
      publicMetrics: true,
      privateScore: true,
      privateMetrics: true,
      latencyP50Ms: true,
      latencyP95Ms: true,
      modelBytes: true,
      paramCount: true,
      peakMemoryBytes: true,
      peakGpuMemoryBytes: true,
      receipt: true,
    },
  },
} satisfies Prisma.SubmissionSelect;

type SubmissionViewRow = Prisma.SubmissionGetPayload<{ select: typeof submissionViewSelect }>;

/** The one mapping from a row to what its team sees; private figures only once revealed. */
export async function toSubmissionView(
  row: SubmissionViewRow,
  taskSlug: string,
  rules: SubmissionTaskRules,
  context: SubmissionViewContext = {},
): Promise<SubmissionStatusView> {
  const privateRevealed = rules.privateRevealedAt !== null;
  const receipt = row.result?.receipt as unknown as EvaluationReceipt | undefined;
  const result =
    row.result && row.status === "SCORED"
      ? {
          score: row.result.publicScore,
          metrics: row.result.publicMetrics as MetricValues,
          ...(privateRevealed ? { privateScore: row.result.privateScore, privateMetrics: row.result.privateMetrics as MetricValues } : {}),
          latencyP50Ms: row.result.latencyP50Ms,
          latencyP95Ms: row.result.latencyP95Ms,
          modelBytes: row.result.modelBytes,
          paramCount: Number(row.result.paramCount),
          peakMemoryBytes: row.result.peakMemoryBytes === null ? null : Number(row.result.peakMemoryBytes),
          peakGpuMemoryBytes: row.result.peakGpuMemoryBytes === null ? null : Number(row.result.peakGpuMemoryBytes),
          evaluationMs: receipt?.timings?.totalMs ?? null,
          receipt: receipt!,
        }
      : null;
  const outlook = row.status === "QUEUED" ? await (context.snapshot ?? (await QueueSnapshot.read())).outlook(row) : null;
  return {
    id: row.id,
    task: taskSlug,
    status: row.status,
    queuePosition: outlook?.queuePosition ?? null,
    etaSeconds: outlook?.etaSeconds ?? null,
    waitReasons: outlook?.waitReasons ?? [],
    history: (context.histories ?? (await submissionHistories([row.id]))).get(row.id) ?? [],
    fileName: row.fileName,
    name: row.name,
    description: row.description,
    sha256: row.sha256,
    sizeBytes: row.sizeBytes,
    attempts: row.attempts,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
    failureKind: row.failureKind,
    // Bounded again here: rows written before the worker built messages from templates, or by hand.
    message: row.message === null ? null : participantMessage(row.message),
    afterFreeze: hiddenByFreeze(rules, row.createdAt),
    final: (context.finals ?? (await finalKindsForTeam(row.taskId, row.teamId))).get(row.id) ?? null,
    result,
  };
}

/**
 * A submission as its team (or an organiser) sees it. Another team's submission, or one of
 * another task, is a 404: its existence is not disclosed.
 */
export async function submissionStatusForCaller(caller: Pick<ApiCaller, "teamId" | "role">, taskSlug: string, submissionId: number): Promise<SubmissionStatusView> {
  const notFound = new ApiError(404, "NOT_FOUND", `There is no submission ${submissionId} of your team for task "${taskSlug}".`);
  if (!Number.isSafeInteger(submissionId) || submissionId <= 0) throw notFound;
  const row = await db.submission.findUnique({
    where: { id: submissionId },
    select: { ...submissionViewSelect, task: { select: { slug: true, privateRevealedAt: true, closesAt: true, publicFreezeMinutes: true } } },
  });
  if (!row || row.task.slug !== taskSlug) throw notFound;
  if (caller.role !== "ADMIN" && row.teamId !== caller.teamId) throw notFound;
  return toSubmissionView(row, row.task.slug, row.task);
}

/** Whether the submission is the team's own (an organiser may view other teams' too). */
export async function isTeamSubmission(teamId: number | null, submissionId: number): Promise<boolean> {
  if (teamId === null) return false;
  return (await db.submission.count({ where: { id: submissionId, teamId } })) > 0;
}

/** A submission by id alone (`goat status ID`): the same answer and the same 404 for another team's. */
export async function submissionStatusById(caller: Pick<ApiCaller, "teamId" | "role">, submissionId: number): Promise<SubmissionStatusView> {
  const row = Number.isSafeInteger(submissionId) && submissionId > 0
    ? await db.submission.findUnique({ where: { id: submissionId }, select: { task: { select: { slug: true } } } })
    : null;
  if (!row) throw new ApiError(404, "NOT_FOUND", `There is no submission ${submissionId} of your team.`);
  return submissionStatusForCaller(caller, row.task.slug, submissionId);
}

export interface TeamQueueEntry {
  id: number;
  task: string;
  status: "QUEUED" | "RUNNING";
  queuePosition: number | null;
  etaSeconds: number | null;
  waitReasons: WaitReason[];
  createdAt: string;
}

/** The caller's team's submissions that are waiting or running, with their positions. */
export async function teamQueue(teamId: number | null): Promise<TeamQueueEntry[]> {
  if (teamId === null) return [];
  const rows = await db.submission.findMany({
    where: { teamId, status: { in: ["QUEUED", "RUNNING"] } },
    select: { id: true, taskId: true, teamId: true, status: true, createdAt: true, task: { select: { slug: true } } },
    orderBy: { id: "asc" },
  });
  const snapshot = rows.some((row) => row.status === "QUEUED") ? await QueueSnapshot.read() : undefined;
  const entries: TeamQueueEntry[] = [];
  for (const row of rows) {
    const outlook = row.status === "QUEUED" ? await snapshot!.outlook(row) : null;
    entries.push({
      id: row.id,
      task: row.task.slug,
      status: row.status as "QUEUED" | "RUNNING",
      queuePosition: outlook?.queuePosition ?? null,
      etaSeconds: outlook?.etaSeconds ?? null,
      waitReasons: outlook?.waitReasons ?? [],
      createdAt: row.createdAt.toISOString(),
    });
  }
  // In the order they will be served.
  return entries.sort((a, b) => (a.queuePosition ?? 0) - (b.queuePosition ?? 0) || a.id - b.id);
}
