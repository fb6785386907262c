import "server-only";
import { db } from "../db";
import { env } from "../env";
import { leaderboardSnapshot } from "./cache";
import { log } from "../log";
import { queueRedis } from "../queue/evaluation-queue";
import { runExclusively } from "../queue/exclusive-run";

/**
 * The public board's ranks at the start of the current UTC day, against which the board shows each
 * team's move (docs/ranking.md, "Rank changes and the shake-up"). They are taken once per task and
 * day into leaderboard_day_starts: by the web app's periodic pass (one replica at a time, under the
 * exclusive-run lock) within a minute of 00:00 UTC, or, when no pass ran yet, by the first board
 * read of the day. What is taken is the public board as it was shown (lib/leaderboard/board.ts, so the
 * freeze holds). Once taken a day's ranks never change, so each web process keeps them in memory:
 * a page view costs a map lookup per row, never a query.
 */
export type DayStartRanks = ReadonlyMap<number, number>;

const DAY_MS = 86_400_000;

/** 00:00 UTC of the day `now` falls in. */
export function utcDayStart(now: Date): Date {
  return new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS);
}

const globalForDayStarts = globalThis as unknown as {
  goatDayStarts?: Map<string, Promise<DayStartRanks>>;
  goatDayStartSweep?: ReturnType<typeof setInterval>;
};

function memory(): Map<string, Promise<DayStartRanks>> {
  globalForDayStarts.goatDayStarts ??= new Map();
  return globalForDayStarts.goatDayStarts;
}

function parseRanks(json: unknown): DayStartRanks {
  const ranks = new Map<number, number>();
  if (json && typeof json === "object") {
    for (const [team, rank] of Object.entries(json as Record<string, unknown>)) {
      if (typeof rank === "number" && Number.isInteger(Number(team))) ranks.set(Number(team), rank);
    }
  }
  return ranks;
}

/**
 * Today's start-of-day ranks of the task, taking them now if nobody has (two takers race on the
 * primary key: the first insert wins and both read it back).
 */
async function takeOrRead(slug: string, day: Date): Promise<DayStartRanks> {
  const task = await db.task.findUniqueOrThrow({ where: { slug }, select: { id: true, slug: true } });
  const existing = await db.leaderboardDayStart.findUnique({ where: { taskId_day: { taskId: task.id, day } }, select: { ranks: true } });
  if (existing) return parseRanks(existing.ranks);
  const board = (await leaderboardSnapshot(task.slug, "public")).leaderboard;
  const ranks = Object.fromEntries(board.entries.map((entry) => [String(entry.teamId), entry.rank]));
  await db.leaderboardDayStart.createMany({ data: [{ taskId: task.id, day, ranks }], skipDuplicates: true });
  const stored = await db.leaderboardDayStart.findUniqueOrThrow({ where: { taskId_day: { taskId: task.id, day } }, select: { ranks: true } });
  return parseRanks(stored.ranks);
}

/** The task's public ranks at the start of the UTC day of `now` (team id -> rank; absent: was not on the board). */
export function dayStartRanks(slug: string, now = new Date()): Promise<DayStartRanks> {
  const day = utcDayStart(now);
  const key = `${slug}\u0000${day.toISOString()}`;
  const cached = memory();
  let ranks = cached.get(key);
  if (!ranks) {
    ranks = takeOrRead(slug, day);
    cached.set(key, ranks);
    // A failed read is not remembered; yesterday's entries are dropped once today's exists.
    ranks.then(
      () => {
        for (const other of cached.keys()) if (other.startsWith(`${slug}\u0000`) && other !== key) cached.delete(other);
      },
      () => {
        if (cached.get(key) === ranks) cached.delete(key);
      },
    );
  }
  return ranks;
}

/** Takes today's ranks of every task that has none yet; answers how many were taken. */
export async function takeDayStarts(now = new Date()): Promise<number> {
  const day = utcDayStart(now);
  const missing = await db.task.findMany({ where: { leaderboardDayStarts: { none: { day } } }, select: { slug: true } });
  for (const task of missing) await dayStartRanks(task.slug, now);
  return missing.length;
}

/** Runs `takeDayStarts` every `intervalMs` in this web process, in one replica at a time. */
export function startDayStartSweep(intervalMs = 60_000): () => void {
  const stop = () => {
    clearInterval(globalForDayStarts.goatDayStartSweep);
    globalForDayStarts.goatDayStartSweep = undefined;
  };
  if (globalForDayStarts.goatDayStartSweep || intervalMs <= 0) return stop;
  globalForDayStarts.goatDayStartSweep = setInterval(() => {
    runExclusively(queueRedis(), `${env().QUEUE_PREFIX}:lock:day-start-ranks`, 60_000, () => takeDayStarts()).catch((error: Error) =>
      log.warn({ err: error }, `day-start ranks: ${error.message}`),
    );
  }, intervalMs);
  globalForDayStarts.goatDayStartSweep.unref();
  return stop;
}
