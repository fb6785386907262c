import "server-only";
import { modelStorageKey } from "@goat/contracts/model-storage";
import { participantMessage } from "@goat/contracts/participant-message";
import type { ApiCaller } from "../auth/api-token";
import { db } from "../db";
import { env } from "../env";
import { ApiError } from "../errors";
import { publishSubmissionStatus } from "../events/submission-events";
import { checkModelForTask } from "../onnx/check-model";
import { inspectModelFile, ModelTooComplexError } from "../onnx/inspect-in-worker";
import { OnnxFormatError, type OnnxModelInfo } from "../onnx/inspect-model";
import { enqueueEvaluation } from "../queue/evaluation-queue";
import { quotaState, type QuotaState } from "../quota/daily-quota";
import { modelStorage } from "../storage";
import { parseSubmissionLabels } from "../submissions/labels";
import { queuePosition } from "../submissions/status";
import { assertTaskOpen, requireTask, type TaskForIntake } from "../tasks/lookup";
import { receiveModelUpload, type ReceivedUpload } from "./receive-upload";

/**
 * The one upload path into storage, used by the API and the browser form alike:
 * authorise -> task open -> quota -> stream + hash -> ONNX checks -> QUEUED row -> store -> job.
 * A refusal of the model or the caller comes before the file reaches model storage and before any
 * job: the last one (the quota, re-checked under a lock) rolls back the row's transaction. The row
 * is written before the file is stored; when storing fails, the row is deleted again. A queue
 * outage is no refusal: the row stays QUEUED and the reconciler adds the job later. The spool file
 * is removed on every path.
 */
export interface AcceptedSubmission {
  id: number;
  task: string;
  status: "QUEUED";
  statusUrl: string;
  queuePosition: number;
  fileName: string;
  name: string | null;
  description: string | null;
  sha256: string;
  sizeBytes: number;
  createdAt: string;
  quota: QuotaState;
}

function quotaExceeded(task: TaskForIntake, quota: QuotaState): ApiError {
  return new ApiError(
    429,
    "QUOTA_EXCEEDED",
    `Your team has used all ${quota.limit} submissions for "${task.slug}" today${
      quota.usedInOtherTeams > 0 ? ` (${quota.usedInOtherTeams} of them made by your team's members while in another team: they count here too)` : ""
    }. The quota resets at ${quota.resetsAt}.`,
    { quota },
    { "Retry-After": String(Math.max(1, Math.ceil((Date.parse(quota.resetsAt) - Date.now()) / 1000))) },
  );
}

async function checkModelFile(upload: ReceivedUpload, task: TaskForIntake): Promise<{ paramCount: number }> {
  let info: OnnxModelInfo;
  try {
    info = await inspectModelFile(upload.spoolPath);
  } catch (error) {
    if (error instanceof OnnxFormatError) {
      throw new ApiError(422, error.code === "TRUNCATED" ? "TRUNCATED_MODEL" : "NOT_ONNX", participantMessage(error.message));
    }
    if (error instanceof ModelTooComplexError) throw new ApiError(422, "DECLARED_SIZE_TOO_LARGE", error.message);
    throw error;
  }
  const problem = checkModelForTask(info, task);
  if (problem) {
    throw new ApiError(422, problem.code, problem.message, { expected: problem.expected, found: problem.found });
  }
  // Declared dims are the uploader's: their product can pass any column (and 2^53, where it stops
  // being exact). A bigint column holds 2^63 - 1; no real model comes near 2^53 parameters.
  if (!Number.isSafeInteger(info.paramCount)) {
    throw new ApiError(422, "DECLARED_SIZE_TOO_LARGE", "The model's initializers declare more elements than any model can hold. Check the dims of its weights.");
  }
  return { paramCount: info.paramCount };
}

/**
 * `reference`: an organisers' reference model (lib/tasks/editor.ts), which takes the same path
 * but may run before the task opens or after it closes, costs no quota and is never ranked.
 */
export async function submitModel(request: Request, caller: ApiCaller, taskSlug: string, opts: { reference?: boolean } = {}): Promise<AcceptedSubmission> {
  const reference = opts.reference === true;
  const task = await requireTask(taskSlug);
  if (!reference) assertTaskOpen(task);
  if (caller.teamId === null) {
    throw new ApiError(403, "NO_TEAM", "You are not in a team yet. Create a team or join one with an invite code, then submit.");
  }
  const teamId = caller.teamId;

  // Refuse early, before reading the body, when the quota is already used up.
  const before = await quotaState(db, teamId, task);
  if (before.remaining === 0 && !reference) throw quotaExceeded(task, before);

  const upload = await receiveModelUpload(request, { maxBytes: task.maxModelBytes, spoolDir: env().UPLOAD_TMP_DIR });
  try {
    const labels = parseSubmissionLabels(upload.fields);
    const { paramCount } = await checkModelFile(upload, task);
    const storageKey = modelStorageKey(task.slug, upload.sha256);

    // The row first, the file after the commit: every refusal inside the transaction (the quota
    // race) leaves nothing in storage. The job is added only once the file is there.
    const { submission, quota } = await db.$transaction(async (tx) => {
      // Serialise concurrent uploads of one team so two cannot both take the last slot.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${teamId}::bigint)`;
      const current = await quotaState(tx, teamId, task);
      if (current.remaining === 0 && !reference) throw quotaExceeded(task, current);
      const created = await tx.submission.create({
        data: {
          taskId: task.id,
          teamId,
          userId: caller.userId,
          fileName: upload.fileName,
          ...labels,
          sha256: upload.sha256,
          sizeBytes: upload.sizeBytes,
          storageKey,
          paramCount: BigInt(paramCount),
          status: "QUEUED",
          isReference: reference,
          quotaExempt: reference,
        },
        select: { id: true, createdAt: true },
      });
      if (reference) return { submission: created, quota: current };
      return { submission: created, quota: { ...current, used: current.used + 1, remaining: current.remaining - 1 } };
    });

    try {
      // Content-addressed: the same bytes for the same task are stored once.
      const storage = modelStorage();
      if (!(await storage.exists(storageKey))) await storage.putFile(storageKey, upload.spoolPath);
    } catch (error) {
      // No file, no submission: the row goes (and with it the quota it took).
      await db.submission.delete({ where: { id: submission.id } }).catch(() => undefined);
      throw error;
    }

    try {
      await enqueueEvaluation(submission.id, "upload");
    } catch (error) {
      // The row is QUEUED in Postgres, the source of truth; the reconciler adds the job once Redis is back.
      console.warn(`[intake] submission ${submission.id} stored but not queued yet: ${(error as Error).message}`);
    }
    await publishSubmissionStatus(submission.id);

    return {
      id: submission.id,
      task: task.slug,
      status: "QUEUED",
      statusUrl: `/submit/${task.slug}/status/${submission.id}`,
      queuePosition: await queuePosition(submission.id),
      fileName: upload.fileName,
      ...labels,
      sha256: upload.sha256,
      sizeBytes: upload.sizeBytes,
      createdAt: submission.createdAt.toISOString(),
      quota,
    };
  } finally {
    await upload.discard();
  }
}
