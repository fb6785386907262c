import "server-only";
import { Prisma } from "@/prisma/generated/client";
import { db } from "./db";
import { requireTask } from "./tasks";

/**
 * The one place that computes ranks. Each team is represented by its best scored submission
 * (by the public score, or the private one once revealed); ties between a team's own
 * submissions go to the earliest. Equal scores share a rank ("1, 2, 2, 4"), and among equal
 * scores the earlier submission is listed first. Organisers' reference submissions are never
 * ranked. A submission being re-scored keeps its last result on the board until the new one
 * replaces it (only evaluated submissions have a result row). When a task has a public freeze, the public board counts only submissions created
 * before closesAt minus publicFreezeMinutes (the private board is never frozen).
 */
export interface LeaderboardEntry {
  rank: number;
  teamId: number;
  team: string;
  score: number;
  submissionId: number;
  submittedAt: string;
  entries: number;
  /** present on the private leaderboard: the team's rank on the public one */
  publicRank?: number;
  publicScore?: number;
}

export interface Leaderboard {
  task: string;
  metric: string;
  direction: "MAXIMIZE" | "MINIMIZE";
  board: "public" | "private";
  revealed: boolean;
  /** the public board shows only submissions created before this moment (null: not frozen) */
  frozenFrom: string | null;
  entries: LeaderboardEntry[];
}

interface BestRow {
  team_id: number;
  team_name: string;
  score: number;
  submission_id: number;
  created_at: Date;
  entries: bigint;
}

export function assignRanks<T extends { score: number }>(sorted: T[]): (T & { rank: number })[] {
  let rank = 0;
  let previous: number | undefined;
  return sorted.map((entry, index) => {
    if (previous === undefined || entry.score !== previous) rank = index + 1;
    previous = entry.score;
    return { ...entry, rank };
  });
}

async function bestPerTeam(
  taskId: number,
  scoreColumn: "public_score" | "private_score",
  direction: "MAXIMIZE" | "MINIMIZE",
  createdBefore: Date | null = null,
): Promise<BestRow[]> {
  const column = Prisma.raw(`r.${scoreColumn}`);
  const order = Prisma.raw(direction === "MAXIMIZE" ? "DESC" : "ASC");
  const frozen = createdBefore ? Prisma.sql`AND s.created_at < ${createdBefore}` : Prisma.empty;
  return db.$queryRaw<BestRow[]>`
    SELECT * FROM (
      SELECT DISTINCT ON (s.team_id)
        s.team_id, t.name AS team_name, ${column} AS score, s.id AS submission_id, s.created_at,
        COUNT(*) OVER (PARTITION BY s.team_id) AS entries
      FROM submissions s
      JOIN results r ON r.submission_id = s.id
      JOIN teams t ON t.id = s.team_id
      WHERE s.task_id = ${taskId} AND s.status IN ('SCORED', 'QUEUED', 'RUNNING') AND NOT s.is_reference ${frozen}
      ORDER BY s.team_id, ${column} ${order}, s.created_at ASC, s.id ASC
    ) best
    ORDER BY best.score ${order}, best.created_at ASC, best.submission_id ASC`;
}

function toEntries(rows: BestRow[]): LeaderboardEntry[] {
  return assignRanks(
    rows.map((row) => ({
      teamId: row.team_id,
      team: row.team_name,
      score: row.score,
      submissionId: row.submission_id,
      submittedAt: row.created_at.toISOString(),
      entries: Number(row.entries),
    })),
  );
}

/** The moment after which new submissions no longer move the public board; null when not frozen. */
export function publicFreezeStart(task: { closesAt: Date | null; publicFreezeMinutes: number }): Date | null {
  if (!task.closesAt || task.publicFreezeMinutes <= 0) return null;
  return new Date(task.closesAt.getTime() - task.publicFreezeMinutes * 60_000);
}

export async function leaderboardForTask(slug: string, board: "public" | "private" = "public"): Promise<Leaderboard> {
  const task = await requireTask(slug);
  const revealed = task.privateRevealedAt !== null;
  const { publicFreezeMinutes } = await db.task.findUniqueOrThrow({ where: { id: task.id }, select: { publicFreezeMinutes: true } });
  const frozenFrom = publicFreezeStart({ closesAt: task.closesAt, publicFreezeMinutes });
  const publicEntries = toEntries(await bestPerTeam(task.id, "public_score", task.direction, frozenFrom));
  const base = { task: task.slug, metric: task.rankMetric, direction: task.direction, revealed, frozenFrom: frozenFrom?.toISOString() ?? null };
  if (board === "public" || !revealed) return { ...base, board: "public", entries: publicEntries };

  const publicByTeam = new Map(publicEntries.map((entry) => [entry.teamId, entry]));
  const privateEntries = toEntries(await bestPerTeam(task.id, "private_score", task.direction)).map((entry) => ({
    ...entry,
    publicRank: publicByTeam.get(entry.teamId)?.rank,
    publicScore: publicByTeam.get(entry.teamId)?.score,
  }));
  return { ...base, board: "private", entries: privateEntries };
}
