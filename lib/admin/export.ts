import "server-only";
import { db } from "../db";
import { ApiError } from "../errors";
import { leaderboardForTask } from "../leaderboard/board";
import type { SessionUser } from "../auth/session";
import { assertAdmin } from "./authorize";

/**
 * Per-task exports for organisers: the leaderboard (public or private) and every submission. Both
 * say which submissions are each team's finals (docs/ranking.md "Final submissions"): on the
 * private board, the counted one's kind and the team's finals; per submission, whether it is a
 * selected or a default final (and who selected it, when).
 */
export type ExportKind = "leaderboard" | "private-leaderboard" | "submissions";
export type Row = Record<string, string | number | boolean | null>;

/** Each team's finals as Postgres keeps them on its private board row, by team. */
async function finalsByTeam(taskId: number): Promise<Map<number, { kind: "selected" | "default"; ids: number[] }>> {
  const rows = await db.leaderboardEntry.findMany({ where: { taskId, board: "PRIVATE" }, select: { teamId: true, finalKind: true, finalSubmissionIds: true } });
  return new Map(rows.map((row) => [row.teamId, { kind: row.finalKind === "SELECTED" ? "selected" : "default", ids: row.finalSubmissionIds }]));
}

export async function exportRows(actor: SessionUser | null, slug: string, kind: ExportKind): Promise<Row[]> {
  assertAdmin(actor);
  const task = await db.task.findUnique({ where: { slug }, select: { id: true } });
  if (!task) throw new ApiError(404, "TASK_NOT_FOUND", `There is no task "${slug}".`);
  const finals = await finalsByTeam(task.id);
  if (kind === "leaderboard" || kind === "private-leaderboard") {
    // lib/leaderboard/board.ts is the one place that ranks; its private board exists once revealed
    // (before that it answers the public one, and the export says so in board_revealed).
    const board = await leaderboardForTask(slug, kind === "private-leaderboard" ? "private" : "public");
    return board.entries.map((entry) => ({
      rank: entry.rank,
      team: entry.team,
      score: entry.score,
      submission_id: entry.submissionId,
      submitted_at: entry.submittedAt,
      submission_count: entry.submissionCount,
      public_rank: entry.publicRank ?? null,
      interval_low: entry.interval?.low ?? null,
      interval_high: entry.interval?.high ?? null,
      statistically_tied: entry.statisticallyTied,
      final: entry.final ?? null,
      finals: board.board === "private" ? (finals.get(entry.teamId)?.ids.join(" ") ?? "") : null,
    }));
  }
  const rows = await db.submission.findMany({
    where: { taskId: task.id },
    orderBy: { id: "asc" },
    select: {
      id: true,
      status: true,
      failureKind: true,
      message: true,
      fileName: true,
      sha256: true,
      sizeBytes: true,
      createdAt: true,
      finishedAt: true,
      isReference: true,
      teamId: true,
      finalSelection: { select: { selectedAt: true, selectedBy: { select: { email: true } } } },
      team: { select: { name: true } },
      user: { select: { email: true } },
      result: { select: { publicScore: true, privateScore: true, latencyP50Ms: true, peakMemoryBytes: true, peakGpuMemoryBytes: true } },
    },
  });
  return rows.map((row) => ({
    id: row.id,
    team: row.team.name,
    user: row.user.email,
    status: row.status,
    failure_kind: row.failureKind,
    message: row.message,
    file_name: row.fileName,
    sha256: row.sha256,
    size_bytes: row.sizeBytes,
    created_at: row.createdAt.toISOString(),
    finished_at: row.finishedAt?.toISOString() ?? null,
    reference: row.isReference,
    public_score: row.result?.publicScore ?? null,
    private_score: row.result?.privateScore ?? null,
    latency_p50_ms: row.result?.latencyP50Ms ?? null,
    final: finals.get(row.teamId)?.ids.includes(row.id) ? finals.get(row.teamId)!.kind : null,
    final_selected_by: row.finalSelection?.selectedBy?.email ?? null,
    final_selected_at: row.finalSelection?.selectedAt.toISOString() ?? null,
    peak_memory_bytes: bytesOrNull(row.result?.peakMemoryBytes),
    peak_gpu_memory_bytes: bytesOrNull(row.result?.peakGpuMemoryBytes),
  }));
}

/** BIGINT columns as JSON/CSV numbers (memory sizes stay far below 2^53). */
function bytesOrNull(value: bigint | null | undefined): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function csvCell(value: Row[string]): string {
  if (value === null) return "";
  const text = String(value);
  // Quote per RFC 4180; a leading =, +, - or @ is prefixed so spreadsheets do not run it as a formula.
  const safe = /^[=+\-@]/.test(text) && typeof value === "string" ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function toCsv(rows: Row[], header?: string[]): string {
  const columns = header ?? Object.keys(rows[0] ?? {});
  return [columns.join(","), ...rows.map((row) => columns.map((column) => csvCell(row[column] ?? null)).join(","))].join("\r\n") + "\r\n";
}
