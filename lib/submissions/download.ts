import "server-only";
import type { Readable } from "node:stream";
import type { ApiCaller } from "../auth/api-token";
import { db } from "../db";
import { ApiError } from "../errors";
import { modelStorage } from "../storage";

/**
 * A team downloads the model it submitted (organisers may download any). The storage key never
 * leaves the server; another team's submission is a 404, as on the status route.
 */
export interface SubmissionModelDownload {
  downloadName: string;
  sizeBytes: number;
  sha256: string;
  open(): Promise<Readable>;
}

export async function submissionModelForCaller(caller: Pick<ApiCaller, "teamId" | "role">, taskSlug: string, submissionId: number): Promise<SubmissionModelDownload> {
  const notFound = new ApiError(404, "NOT_FOUND", `There is no submission ${submissionId} of your team for task "${taskSlug}".`);
  if (!Number.isSafeInteger(submissionId) || submissionId <= 0) throw notFound;
  const row = await db.submission.findUnique({
    where: { id: submissionId },
    select: { teamId: true, fileName: true, sizeBytes: true, sha256: true, storageKey: true, task: { select: { slug: true } } },
  });
  if (!row || row.task.slug !== taskSlug) throw notFound;
  if (caller.role !== "ADMIN" && row.teamId !== caller.teamId) throw notFound;
  const storage = modelStorage();
  if (!(await storage.exists(row.storageKey))) throw new ApiError(404, "NOT_FOUND", `The model file of submission ${submissionId} is no longer stored.`);
  // The file name is the participant's; keep it to a safe header value.
  const safeName = row.fileName.replace(/[^A-Za-z0-9._-]/g, "_") || "model.onnx";
  return {
    downloadName: `${taskSlug}-${submissionId}-${safeName}`,
    sizeBytes: row.sizeBytes,
    sha256: row.sha256,
    open: () => storage.openRead(row.storageKey),
  };
}
