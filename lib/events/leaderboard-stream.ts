import "server-only";
import { EVENT_STREAM_HEADERS } from "./event-stream";
import type { SubmissionEvent } from "@goat/contracts/submission-events";
import { forgetLeaderboards, leaderboardSnapshot, onLeaderboardChange } from "../leaderboard/cache";
import { subscribeBoardReveals } from "./board-reveal-events";
import type { LeaderboardEntry, RescoreProgress } from "../leaderboard/board";

/**
 * The leaderboard's live stream, fanned out once per web process: the process holds one Redis
 * subscription (lib/events/submission-events.ts), and when a submission of a task is scored it
 * reads the new board once, serializes the "scored" event once (the scoring team's new row on each
 * board a reader may see) and writes the same bytes to every open stream of that task. An open
 * stream costs one entry in a set and a shared keep-alive comment every 15 s; nothing per event
 * beyond the write.
 */
export interface ScoredEvent {
  task: string;
  at: string;
  /** the scoring team's row on the public board (null: not on it) */
  public: LeaderboardEntry | null;
  /** the same team's row on the private board, once it is revealed */
  private?: LeaderboardEntry | null;
  /** the task's scoring version and how far its re-score has come (docs/ranking.md) */
  scoringVersion: number;
  rescoring: RescoreProgress | null;
}

type StreamWriter = (chunk: Uint8Array) => void;

const KEEPALIVE_MS = 15_000;
const encoder = new TextEncoder();

const globalForStreams = globalThis as unknown as {
  goatLeaderboardStreams?: { byTask: Map<string, Set<StreamWriter>>; keepalive: ReturnType<typeof setInterval> | null; listening: boolean };
};

function registry() {
  globalForStreams.goatLeaderboardStreams ??= { byTask: new Map(), keepalive: null, listening: false };
  const current = globalForStreams.goatLeaderboardStreams;
  if (!current.listening) {
    current.listening = true;
    onLeaderboardChange((event) => void fanOut(event));
    // A reveal or hide: the task's boards are stale in this process, and its open pages switch board.
    subscribeBoardReveals((event) => {
      forgetLeaderboards(event.taskSlug);
      const chunk = encoder.encode(`event: ${event.revealed ? "revealed" : "hidden"}\ndata: ${JSON.stringify(event)}\n\n`);
      for (const write of current.byTask.get(event.taskSlug) ?? []) write(chunk);
    });
  }
  return current;
}

/** The number of leaderboard streams this process holds open (all tasks). */
export function openLeaderboardStreams(): number {
  let count = 0;
  for (const writers of globalForStreams.goatLeaderboardStreams?.byTask.values() ?? []) count += writers.size;
  return count;
}

/** The event to push, or null when it must not go out at all. */
async function scoredEvent(event: SubmissionEvent): Promise<ScoredEvent | null> {
  const publicBoard = await leaderboardSnapshot(event.taskSlug, "public");
  const publicRow = publicBoard.byTeam.get(event.teamId) ?? null;
  // Under a public freeze (docs/ranking.md "The freeze") an event goes out only when the scored
  // submission is the one the team's public row shows. Any other score (one made after the freeze
  // point, or one that did not improve the row) sends nothing, not even an empty event, so the
  // stream tells nobody who is still submitting, nor when their scores arrive.
  const frozen = publicBoard.leaderboard.frozenFrom !== null;
  if (frozen && publicRow?.submissionId !== event.submissionId) return null;
  const scored: ScoredEvent = {
    task: event.taskSlug,
    at: event.at,
    public: publicRow,
    scoringVersion: publicBoard.leaderboard.scoringVersion,
    rescoring: publicBoard.leaderboard.rescoring,
  };
  if (publicBoard.leaderboard.revealed) {
    scored.private = (await leaderboardSnapshot(event.taskSlug, "private")).byTeam.get(event.teamId) ?? null;
  }
  return scored;
}

async function fanOut(event: SubmissionEvent): Promise<void> {
  const writers = globalForStreams.goatLeaderboardStreams?.byTask.get(event.taskSlug);
  if (event.status !== "SCORED" || !writers?.size) return;
  try {
    const scored = await scoredEvent(event);
    if (!scored) return;
    const chunk = encoder.encode(`event: scored\ndata: ${JSON.stringify(scored)}\n\n`);
    for (const write of writers) write(chunk);
  } catch (error) {
    console.warn(`[events] leaderboard fan-out for ${event.taskSlug} failed: ${(error as Error).message}`);
  }
}

function ensureKeepalive(state: ReturnType<typeof registry>) {
  if (state.keepalive) return;
  const chunk = encoder.encode(`: keepalive\n\n`);
  // One timer for every stream of the process: comments keep proxies from closing idle streams.
  state.keepalive = setInterval(() => {
    for (const writers of state.byTask.values()) for (const write of writers) write(chunk);
  }, KEEPALIVE_MS);
  state.keepalive.unref?.();
}

/** A server-sent-event response that receives the task's "scored" events until the client leaves. */
/** `onClose` runs once when the stream ends, however it ends (gives back the rate limiter's slot). */
export function leaderboardEventStream(taskSlug: string, signal: AbortSignal, onClose?: () => unknown): Response {
  const state = registry();
  let cleanup = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const write: StreamWriter = (chunk) => {
        try {
          controller.enqueue(chunk);
        } catch {
          cleanup();
        }
      };
      // `retry` tells EventSource to reconnect after 3 s if the server restarts.
      write(encoder.encode(`retry: 3000\n: connected\n\n`));
      const writers = state.byTask.get(taskSlug) ?? new Set<StreamWriter>();
      state.byTask.set(taskSlug, writers);
      writers.add(write);
      ensureKeepalive(state);
      let closed = false;
      cleanup = () => {
        if (closed) return;
        closed = true;
        void onClose?.();
        writers.delete(write);
        if (writers.size === 0 && state.byTask.get(taskSlug) === writers) state.byTask.delete(taskSlug);
        if (state.byTask.size === 0 && state.keepalive) {
          clearInterval(state.keepalive);
          state.keepalive = null;
        }
        try {
          controller.close();
        } catch {
          // already closed by the client
        }
      };
      signal.addEventListener("abort", () => cleanup(), { once: true });
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(stream, { headers: EVENT_STREAM_HEADERS });
}
