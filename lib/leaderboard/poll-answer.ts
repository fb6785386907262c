import "server-only";
import { authenticateRequest } from "../auth/request-caller";
import { holdsSessionCookie } from "../auth/session-cookie";
import type { EarlyAnswer, EarlyAnswerRoute, EarlyRequest } from "../http/early-answers";
import { earlyFetchRequest, earlyForwardedFor, earlyHeader } from "../http/early-answers";
import { gzippedFor } from "../http/early-gzip";
import { clientIpOf } from "../http/client-ip";
import { consumeLimit } from "../http/rate-limits";
import { apiAnswerHeaders } from "../http/security-headers";
import { webMetrics } from "../observability/metrics";
import { leaderboardSnapshot, matchesEtag, parseLeaderboardQuery, serializedPage, type SerializedPage } from "./cache";

/** Whether a poll carries credentials: an Authorization header or a session cookie (other cookies do not sign anyone in). */
function carriesCredentials(authorization: string | null | undefined, cookie: string | null | undefined): boolean {
  return (authorization !== null && authorization !== undefined) || holdsSessionCookie(cookie);
}

/**
 * The team of the poll's caller, whose row the answer always holds; null for an anonymous reader,
 * and for credentials that sign no one in (a bad or expired token, an ended session: the board
 * alone, as anyone gets it; a bad token still counts towards the address's limit on bad tokens).
 */
export async function leaderboardCallerTeam(request: Request): Promise<number | null> {
  return carriesCredentials(request.headers.get("authorization"), request.headers.get("cookie")) ? teamOfCredentials(request) : null;
}

/** The team of a request that carries credentials; null when they sign no one in. */
async function teamOfCredentials(request: Request): Promise<number | null> {
  try {
    return (await authenticateRequest(request)).teamId;
  } catch {
    return null;
  }
}

/**
 * The answer to `GET /api/tasks/{task}/leaderboard`, from a page of the board kept in memory
 * (lib/leaderboard/cache.ts): 304 when the caller holds this version, else the page's bytes. The
 * route (app/api/tasks/[task]/leaderboard/route.ts) and the web server's early answer below give the same.
 */
export function leaderboardPollAnswer(page: SerializedPage, teamId: number | null, ifNoneMatch: string | null): EarlyAnswer {
  const headers: Record<string, string> = {
    ETag: page.etag,
    // A few seconds let a proxy or CDN answer a crowd of anonymous readers; an answer that holds the
    // caller's own row is theirs alone.
    "Cache-Control": teamId === null ? "public, max-age=2, stale-while-revalidate=5" : "private, max-age=2",
    // Accept-Encoding: the early answer gzips by it, and Next's compression adds it (once) to the route's.
    Vary: "Authorization, Cookie, Accept-Encoding",
  };
  if (matchesEtag(ifNoneMatch, page.etag)) return { status: 304, headers, body: null };
  return { status: 200, headers: { ...headers, "Content-Type": "application/json" }, body: page.body };
}

const LEADERBOARD_POLL = /^\/api\/tasks\/([^/?]+)\/leaderboard(?:\?(.*))?$/;

/**
 * A poll of a board, answered by the web server before Next (lib/http/early-answers.ts) with the
 * bytes, headers and rate limit the route would give, the signed-in caller's own row included (their
 * credentials read by the route's own function, leaderboardCallerTeam). Declined, for Next to answer:
 * a query the route would refuse, an unknown task or unrevealed board (the route's error answer), a
 * caller over the polling limit (the route's 429).
 */
export const leaderboardPoll: EarlyAnswerRoute = {
  name: "leaderboard",
  accepts: (request: EarlyRequest) => request.method === "GET" && LEADERBOARD_POLL.test(request.url),
  async answer(request: EarlyRequest): Promise<EarlyAnswer | null> {
    const [, encodedTask, search = ""] = LEADERBOARD_POLL.exec(request.url) ?? [];
    try {
      const query = parseLeaderboardQuery(new URLSearchParams(search));
      // Before anything is counted: a poll declined here is counted once, by the route.
      const snapshot = await leaderboardSnapshot(decodeURIComponent(encodedTask), query.board);
      await consumeLimit("pollsPerIp", clientIpOf(earlyForwardedFor(request)));
      // As leaderboardCallerTeam, on the raw headers: the anonymous crowd's poll builds no Request.
      const signedIn = carriesCredentials(request.headers.authorization, earlyHeader(request, "cookie"));
      const teamId = signedIn ? await teamOfCredentials(earlyFetchRequest(request)) : null;
      const page = serializedPage(snapshot, query, teamId);
      const answer = leaderboardPollAnswer(page, teamId, earlyHeader(request, "if-none-match"));
      const headers: Record<string, string> = { ...apiAnswerHeaders(earlyHeader(request, "x-forwarded-proto")), ...answer.headers };
      // An anonymous page's bytes are shared (memoized per board version): compressed once. A
      // signed-in caller's page is made for them, and compressed for them.
      const compressed = answer.body && gzippedFor(request, answer.body);
      if (compressed) headers["Content-Encoding"] = "gzip";
      webMetrics().earlyAnswers.inc({ route: "leaderboard" });
      return { status: answer.status, headers, body: compressed ?? answer.body };
    } catch {
      return null;
    }
  },
};
