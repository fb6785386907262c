import "server-only";
import { createHash } from "node:crypto";
import type { z } from "zod";
import type { SubmissionEvent } from "@goat/contracts/submission-events";
import { subscribeSubmissionEvents } from "../events/submission-events";
import { subscribeBoardReveals } from "../events/board-reveal-events";
import { forgetLeaderboardPages } from "./page-html-cache";
import { leaderboardForTask, type Leaderboard, type LeaderboardEntry } from "./board";
import { leaderboardQuerySchema } from "../schemas/platform";

/**
 * Each web process keeps every board it has served in memory, so that a final hour of every team
 * refreshing costs Postgres one read per board change, not one per request. A board is dropped when
 * a submission event of its task arrives over Redis (published after the change is committed), and
 * after MAX_AGE_MS whatever happens, which bounds how long a change made without an event (an
 * organiser editing the task's freeze, or revealing the private board, in another process) takes
 * to show.
 */
export type BoardKind = "public" | "private";

export interface BoardSnapshot {
  leaderboard: Leaderboard;
  /** a digest of the whole board: equal boards have equal versions */
  version: string;
  byTeam: Map<number, LeaderboardEntry>;
  /** serialized answers of this snapshot (UTF-8 bytes and entity tag), by query; only for anonymous callers (no own row) */
  bodies: Map<string, SerializedPage>;
}

const MAX_AGE_MS = 10_000;
const MAX_MEMOIZED_BODIES = 64;

interface CachedBoard {
  snapshot: Promise<BoardSnapshot>;
  loadedAt: number;
}

type BoardChangeListener = (event: SubmissionEvent) => void;

const globalForBoards = globalThis as unknown as {
  goatBoards?: { boards: Map<string, CachedBoard>; listeners: Set<BoardChangeListener>; subscribed: boolean };
};

function state() {
  globalForBoards.goatBoards ??= { boards: new Map(), listeners: new Set(), subscribed: false };
  const current = globalForBoards.goatBoards;
  if (!current.subscribed) {
    current.subscribed = true;
    subscribeSubmissionEvents((event) => {
      // A claim (QUEUED -> RUNNING) never moves a board; every other status change may.
      if (event.status === "RUNNING") return;
      forgetLeaderboards(event.taskSlug);
      for (const listener of current.listeners) listener(event);
    });
    // A reveal or hide made in another process: every process that keeps boards drops them (open
    // streams are told by lib/events/leaderboard-stream.ts).
    subscribeBoardReveals((event) => forgetLeaderboards(event.taskSlug));
  }
  return current;
}

const cacheKey = (slug: string, board: BoardKind) => `${slug}\u0000${board}`;

/** Drops a task's boards from this process's memory, and its kept pages; the next read loads them again. */
export function forgetLeaderboards(slug: string): void {
  forgetLeaderboardPages(slug);
  const { boards } = globalForBoards.goatBoards ?? { boards: new Map<string, CachedBoard>() };
  boards.delete(cacheKey(slug, "public"));
  boards.delete(cacheKey(slug, "private"));
}

/**
 * Calls `listener` after a task's boards were dropped because of a submission event, so that what
 * it reads next is the new board.
 */
export function onLeaderboardChange(listener: BoardChangeListener): () => void {
  const { listeners } = state();
  listeners.add(listener);
  return () => listeners.delete(listener);
}

async function loadSnapshot(slug: string, board: BoardKind): Promise<BoardSnapshot> {
  const leaderboard = await leaderboardForTask(slug, board);
  const version = createHash("sha1").update(JSON.stringify(leaderboard)).digest("base64url").slice(0, 20);
  return { leaderboard, version, byTeam: new Map(leaderboard.entries.map((entry) => [entry.teamId, entry])), bodies: new Map() };
}

/**
 * The task's board as this process last loaded it (one load at a time per board). A caller that
 * has just read whether the private board is revealed passes it: a snapshot loaded before a reveal
 * (or a hide) made by another process is then not served.
 */
export async function leaderboardSnapshot(slug: string, board: BoardKind, revealed?: boolean): Promise<BoardSnapshot> {
  const { boards } = state();
  const key = cacheKey(slug, board);
  const cached = boards.get(key);
  if (cached && Date.now() - cached.loadedAt < MAX_AGE_MS) {
    const snapshot = await cached.snapshot.catch(() => null);
    if (snapshot && (revealed === undefined || snapshot.leaderboard.revealed === revealed)) return snapshot;
    if (boards.get(key) === cached) boards.delete(key);
    return leaderboardSnapshot(slug, board);
  }
  const snapshot = loadSnapshot(slug, board);
  const entry = { snapshot, loadedAt: Date.now() };
  boards.set(key, entry);
  // A failed load (an unknown task, a database hiccup) is not remembered.
  snapshot.catch(() => {
    if (boards.get(key) === entry) boards.delete(key);
  });
  return snapshot;
}

export { leaderboardQuerySchema };
export type LeaderboardQuery = z.infer<typeof leaderboardQuerySchema>;

export function parseLeaderboardQuery(params: URLSearchParams): LeaderboardQuery {
  return leaderboardQuerySchema.parse({
    board: params.get("board") ?? undefined,
    page: params.get("page") ?? undefined,
    pageSize: params.get("pageSize") ?? undefined,
    search: params.get("search") ?? undefined,
  });
}

export interface LeaderboardPage extends Leaderboard {
  page: number;
  pageSize: number;
  /** rows that match the search (every ranked team when there is none) */
  totalEntries: number;
  totalPages: number;
  search: string;
  /** the caller's team's row wherever it ranks (null: not signed in, no team, or not ranked) */
  ownEntry: LeaderboardEntry | null;
}

/** One page of a board; ranks stay those of the whole board, also when searching by team name. */
export function pageOfBoard(snapshot: BoardSnapshot, query: LeaderboardQuery, ownTeamId: number | null): LeaderboardPage {
  const { leaderboard } = snapshot;
  const needle = query.search.toLowerCase();
  const matching = needle ? leaderboard.entries.filter((entry) => entry.team.toLowerCase().includes(needle)) : leaderboard.entries;
  const from = (query.page - 1) * query.pageSize;
  return {
    ...leaderboard,
    entries: matching.slice(from, from + query.pageSize),
    page: query.page,
    pageSize: query.pageSize,
    totalEntries: matching.length,
    totalPages: Math.max(1, Math.ceil(matching.length / query.pageSize)),
    search: query.search,
    ownEntry: ownTeamId === null ? null : (snapshot.byTeam.get(ownTeamId) ?? null),
  };
}

export interface SerializedPage {
  body: Uint8Array<ArrayBuffer>;
  etag: string;
}

const encoder = new TextEncoder();

/**
 * The serialized page and its entity tag. The tag names the board's version and the query, so a
 * client (or a proxy) holding it gets 304 until the board changes. An anonymous caller's page is
 * serialized and encoded once per snapshot and query, and served as the same bytes.
 */
export function serializedPage(snapshot: BoardSnapshot, query: LeaderboardQuery, ownTeamId: number | null): SerializedPage {
  const queryKey = `${query.board}|${query.page}|${query.pageSize}|${query.search}|${ownTeamId ?? ""}`;
  const memoized = ownTeamId === null ? snapshot.bodies.get(queryKey) : undefined;
  if (memoized) return memoized;
  const etag = `W/"${snapshot.version}.${createHash("sha1").update(queryKey).digest("base64url").slice(0, 12)}"`;
  const page = { body: encoder.encode(JSON.stringify(pageOfBoard(snapshot, query, ownTeamId))), etag };
  if (ownTeamId === null && snapshot.bodies.size < MAX_MEMOIZED_BODIES) snapshot.bodies.set(queryKey, page);
  return page;
}

/** Whether an If-None-Match header names this entity tag (weak comparison, RFC 9110 section 13.1.2). */
export function matchesEtag(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === "*") return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((tag) => opaque(tag) === opaque(etag));
}
