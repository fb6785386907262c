import "server-only";
import { randomUUID } from "node:crypto";
import { recordAudit } from "../admin/audit";
import { assertAdmin } from "../admin/authorize";
import type { SessionUser } from "../auth/session";
import { db } from "../db";
import { ApiError } from "../errors";
import { submitModel, type AcceptedSubmission } from "../intake/submit-model";

/**
 * The organisers' reference model of a task. It goes through the normal upload path and the normal
 * queue under the organisers' team, flagged isReference (never ranked, no quota): the organiser
 * sees exactly what a participant's model would meet on the workers (dataset, labels, metric, GPU),
 * and the web app never runs onnxruntime itself (docs/architecture.md).
 */
export const ORGANISERS_TEAM = "Organisers";

async function organisersTeamId(): Promise<number> {
  const team = await db.team.upsert({
    where: { name: ORGANISERS_TEAM },
    create: { name: ORGANISERS_TEAM, inviteCode: `organisers-${randomUUID()}` },
    update: {},
    select: { id: true },
  });
  return team.id;
}

/** Uploads a reference model (multipart field `file`) through the normal path, under the organisers' team. */
export async function submitReferenceModel(actor: SessionUser | null, request: Request, slug: string): Promise<AcceptedSubmission> {
  assertAdmin(actor);
  const teamId = await organisersTeamId();
  const accepted = await submitModel(request, { userId: actor.id, role: "ADMIN", teamId, tokenId: null }, slug, { reference: true });
  await recordAudit(db, actor.id, "task.reference_model", `task:${slug}`, { submissionId: accepted.id });
  return accepted;
}

export interface TaskValidation {
  slug: string;
  datasetVersion: string | null;
  reference: {
    id: number;
    status: string;
    failureKind: string | null;
    message: string | null;
    publicScore: number | null;
    privateScore: number | null;
    /** what the reference model used over the sandbox's baseline: compare with the task's memory limit */
    peakMemoryBytes: number | null;
    metric: string;
  } | null;
}

/** What the task page shows after a save: is there a dataset, and how did the latest reference model do. */
export async function taskValidation(actor: SessionUser | null, slug: string): Promise<TaskValidation> {
  assertAdmin(actor);
  const task = await db.task.findUnique({ where: { slug }, select: { id: true, datasetVersion: true, rankMetric: true } });
  if (!task) throw new ApiError(404, "TASK_NOT_FOUND", `There is no task "${slug}".`);
  const reference = await db.submission.findFirst({
    where: { taskId: task.id, isReference: true },
    orderBy: { id: "desc" },
    select: { id: true, status: true, failureKind: true, message: true, result: { select: { publicScore: true, privateScore: true, peakMemoryBytes: true } } },
  });
  return {
    slug,
    datasetVersion: task.datasetVersion,
    reference: reference
      ? {
          id: reference.id,
          status: reference.status,
          failureKind: reference.failureKind,
          message: reference.message,
          publicScore: reference.result?.publicScore ?? null,
          privateScore: reference.result?.privateScore ?? null,
          peakMemoryBytes: reference.result?.peakMemoryBytes == null ? null : Number(reference.result.peakMemoryBytes),
          metric: task.rankMetric,
        }
      : null,
  };
}
