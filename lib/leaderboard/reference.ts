import "server-only";
import { db } from "../db";
import type { BoardSnapshot } from "./cache";
import { publicFreezeStart } from "./board";
import type { ReferenceRow } from "./reference-rows";

/**
 * The reference row a board shows when the task's organisers chose to (Task.showReferenceOnBoards):
 * the latest scored reference model's score on that board. The public board respects the freeze
 * like any team's submission does. Read once per loaded board snapshot (a WeakMap keyed by the
 * snapshot, so it is dropped and read again exactly when the board is: lib/leaderboard/cache.ts).
 */
const bySnapshot = new WeakMap<BoardSnapshot, Promise<ReferenceRow | null>>();

async function readReferenceRow(slug: string, board: "public" | "private"): Promise<ReferenceRow | null> {
  const task = await db.task.findUnique({ where: { slug }, select: { id: true, showReferenceOnBoards: true, closesAt: true, publicFreezeMinutes: true } });
  if (!task?.showReferenceOnBoards) return null;
  const frozenFrom = board === "public" ? publicFreezeStart(task) : null;
  const latest = await db.submission.findFirst({
    where: { taskId: task.id, isReference: true, status: "SCORED", result: { isNot: null }, ...(frozenFrom ? { createdAt: { lt: frozenFrom } } : {}) },
    orderBy: { id: "desc" },
    select: { id: true, name: true, result: { select: { publicScore: true, privateScore: true } } },
  });
  if (!latest?.result) return null;
  return {
    label: `Reference: ${latest.name?.trim() || "baseline"}`,
    score: board === "public" ? latest.result.publicScore : latest.result.privateScore,
    submissionId: latest.id,
  };
}

/** The reference row of the snapshot's board (null: the task does not show one, or none is scored). */
export function referenceRowFor(snapshot: BoardSnapshot): Promise<ReferenceRow | null> {
  let row = bySnapshot.get(snapshot);
  if (!row) {
    row = readReferenceRow(snapshot.leaderboard.task, snapshot.leaderboard.board);
    bySnapshot.set(snapshot, row);
    row.catch(() => bySnapshot.delete(snapshot));
  }
  return row;
}
