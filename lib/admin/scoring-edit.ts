import "server-only";
import type { Prisma } from "@goat/contracts/db";
import { scoringChanges, scoringSettingsOf, type ScoringChange, type ScoringSettings } from "@goat/contracts/scoring-version";
import { db } from "../db";
import { ApiError } from "../errors";
import { publishSubmissionStatus } from "../events/submission-events";
import { forgetLeaderboards } from "../leaderboard/cache";
import { enqueueEvaluation } from "../queue/evaluation-queue";

/**
 * Versioned scoring (docs/ranking.md, "When the organisers change the scoring"). An edit of what a
 * score means (dataset, split, metrics, rank metric, direction, top-k, score formula) bumps the
 * task's scoringVersion and queues every scored or failed submission for a re-score in the
 * background lane, in one transaction. From that commit the board shows only results of the new
 * version (leaderboard_refresh) and says "re-scoring n of m" until the worker has re-scored them all.
 * Callers check the organiser's rights (this module is also used by the seed and the admin CLI,
 * which have no session).
 */
const SCORING_SELECT = {
  id: true, slug: true, datasetVersion: true, splitSeed: true, publicFraction: true, metrics: true, rankMetric: true, direction: true, topK: true,
  scoreFormula: true, scoringVersion: true,
} as const;

/** The statuses a re-score queues again: every evaluated submission (the existing re-score lane's rule). */
const RESCORED_STATUSES = ["SCORED", "FAILED"] as const;

/** What a scoring edit would do: the settings it changes and how many submissions it re-scores. */
export interface RescorePlan {
  changes: ScoringChange[];
  submissions: number;
}

/** The answer when a scoring edit needs the organiser's confirmation (409 in the API). */
export class RescoreConfirmationNeeded extends ApiError {
  constructor(readonly plan: RescorePlan) {
    super(
      409,
      "CONFLICT",
      `This changes how submissions are scored (${plan.changes.map((change) => change.field).join(", ")}): ${plan.submissions} submissions will be re-scored, ` +
        "and until then the leaderboard shows only re-scored ones. Send confirmRescore: true to apply it.",
      { reason: "RESCORE_NEEDS_CONFIRMATION", changes: plan.changes, submissions: plan.submissions },
    );
  }
}

type Tx = Prisma.TransactionClient;

/**
 * Queues every scored or failed submission of a task for a re-score (background lane). The old
 * results stay until the worker replaces each one. Returns the ids to enqueue after the commit.
 */
export async function requeueForRescore(tx: Tx, taskId: number): Promise<number[]> {
  const rows = await tx.submission.findMany({ where: { taskId, status: { in: [...RESCORED_STATUSES] } }, select: { id: true }, orderBy: { id: "asc" } });
  const ids = rows.map((row) => row.id);
  // A platform failure never cost quota; queued again it must not start to.
  await tx.submission.updateMany({ where: { id: { in: ids }, status: "FAILED", failureKind: "PLATFORM" }, data: { quotaExempt: true } });
  await tx.submission.updateMany({
    where: { id: { in: ids } },
    // rescoring: the background lane, behind every fresh submission (@goat/contracts/fair-queue).
    data: { status: "QUEUED", failureKind: null, message: "Being re-scored.", finishedAt: null, workerId: null, rescoring: true },
  });
  return ids;
}

/** After the commit: the jobs, the status events, and this process's copies of the boards. */
export async function enqueueRescores(slug: string, ids: number[]): Promise<void> {
  forgetLeaderboards(slug);
  for (const id of ids) {
    await enqueueEvaluation(id, "rescore");
    await publishSubmissionStatus(id);
  }
}

/** The plan of changing a task's scoring settings to `next` (no change: an empty plan). */
export async function rescorePlan(current: ScoringSettings & { id: number }, next: ScoringSettings): Promise<RescorePlan> {
  const changes = scoringChanges(current, next);
  if (changes.length === 0) return { changes, submissions: 0 };
  const submissions = await db.submission.count({ where: { taskId: current.id, status: { in: [...RESCORED_STATUSES] } } });
  return { changes, submissions };
}

/** The task's current scoring settings, with its id, slug and version. */
export async function currentScoring(slug: string) {
  const task = await db.task.findUnique({ where: { slug }, select: SCORING_SELECT });
  if (!task) throw new ApiError(404, "TASK_NOT_FOUND", `There is no task "${slug}".`);
  return task;
}

/**
 * Applies a task update whose scoring settings may change. A change with submissions to re-score
 * needs `confirmRescore` (else RescoreConfirmationNeeded, nothing written); it then bumps the
 * scoring version, updates the task and queues the re-scores in one transaction.
 */
export async function updateTaskScoring(
  slug: string,
  data: Prisma.TaskUpdateManyMutationInput & Partial<ScoringSettings>,
  { confirmRescore = false }: { confirmRescore?: boolean } = {},
): Promise<{ plan: RescorePlan; scoringVersion: number }> {
  const current = await currentScoring(slug);
  const defined = Object.fromEntries(Object.entries(data).filter(([, value]) => value !== undefined)) as Partial<ScoringSettings>;
  const plan = await rescorePlan(current, scoringSettingsOf({ ...current, ...defined }));
  if (plan.submissions > 0 && !confirmRescore) throw new RescoreConfirmationNeeded(plan);
  const { scoringVersion, ids } = await db.$transaction(async (tx) => {
    const bump = plan.changes.length > 0;
    // The version is compared with what the plan was made from: a concurrent edit makes this one start over.
    const { count } = await tx.task.updateMany({
      where: { id: current.id, scoringVersion: current.scoringVersion },
      data: { ...data, ...(bump ? { scoringVersion: { increment: 1 } } : {}) },
    });
    if (count !== 1) throw new ApiError(409, "CONFLICT", "The task's scoring was changed meanwhile; reload and try again.");
    return { scoringVersion: current.scoringVersion + (bump ? 1 : 0), ids: bump ? await requeueForRescore(tx, current.id) : [] };
  });
  await enqueueRescores(slug, ids);
  return { plan: { ...plan, submissions: ids.length }, scoringVersion };
}

/**
 * A new dataset version (a re-import with different content): recorded, and a new scoring version
 * with its re-scores, in one transaction. The upload itself is the organiser's confirmation.
 * Returns how many submissions are queued for a re-score.
 */
export async function switchDatasetVersion(taskId: number, data: { datasetVersion: string; datasetRows: number; trainingDataFile: string | null }): Promise<number> {
  const { slug, ids } = await db.$transaction(async (tx) => {
    const before = await tx.task.findUniqueOrThrow({ where: { id: taskId }, select: { slug: true, datasetVersion: true } });
    // The first import scores nothing anew: without a dataset no submission was evaluated.
    const changed = before.datasetVersion !== null && before.datasetVersion !== data.datasetVersion;
    await tx.task.update({ where: { id: taskId }, data: { ...data, ...(changed ? { scoringVersion: { increment: 1 } } : {}) } });
    return { slug: before.slug, ids: changed ? await requeueForRescore(tx, taskId) : [] };
  });
  await enqueueRescores(slug, ids);
  return ids.length;
}

