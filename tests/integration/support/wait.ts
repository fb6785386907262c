import { db } from "@/lib/db";

/** Polls Postgres until the submission reaches a final state (or the timeout passes). */
export async function waitForFinalStatus(submissionId: number, timeoutMs = 45_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const submission = await db.submission.findUniqueOrThrow({
      where: { id: submissionId },
      select: { id: true, status: true, failureKind: true, message: true, attempts: true, workerId: true },
    });
    if (["SCORED", "FAILED", "CANCELLED"].includes(submission.status)) return submission;
    if (Date.now() > deadline) throw new Error(`submission ${submissionId} still ${submission.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
