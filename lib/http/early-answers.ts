import type { IncomingHttpHeaders } from "node:http";

/**
 * Answers the web server (web-server.ts) gives before it hands a request to Next.
 *
 * Next's App Router costs about 1 ms of CPU per request before a route handler runs (measured by
 * `npm run bench:next-floor`: a route that answers a constant), which caps a web process near
 * 1,000 requests/s. The leaderboard poll is the one request a crowd sends at that rate
 * (docs/performance.md, "The leaderboard at event scale"), and it is answered from memory; the leaderboard page's own part
 * (lib/leaderboard/viewer.ts) comes with every signed-in page view. The app registers them here at
 * start-up (instrumentation.ts), and the web server asks each registered route first.
 * A route declines (null) whatever it does not answer exactly as Next would, which then answers.
 *
 * The registry lives on globalThis: the web server is built apart from Next's bundles (esbuild, see
 * scripts/build-web.sh), and each gets its own copy of this module. No `server-only` import here:
 * the web server imports it.
 */
export interface EarlyRequest {
  method: string;
  /** path and query, as the request line gave them */
  url: string;
  headers: IncomingHttpHeaders;
  /** the connection's peer, which Next would put in X-Forwarded-For when the request has none */
  remoteAddress: string | undefined;
}

export interface EarlyAnswer {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | null;
}

export interface EarlyAnswerRoute {
  /** the metrics label and the logs' name of the route */
  name: string;
  /** a cheap test on the request line and headers: whether `answer` is worth calling */
  accepts(request: EarlyRequest): boolean;
  /** the answer, or null to let Next answer */
  answer(request: EarlyRequest): Promise<EarlyAnswer | null>;
}

const globalForEarlyAnswers = globalThis as unknown as { goatEarlyAnswerRoutes?: Map<string, EarlyAnswerRoute> };

function routes(): Map<string, EarlyAnswerRoute> {
  globalForEarlyAnswers.goatEarlyAnswerRoutes ??= new Map();
  return globalForEarlyAnswers.goatEarlyAnswerRoutes;
}

/** Registers (or replaces, by name) a route the web server answers before Next. */
export function registerEarlyAnswer(route: EarlyAnswerRoute): void {
  routes().set(route.name, route);
}

/** The registered route that accepts this request, if any. */
export function earlyAnswerRoute(request: EarlyRequest): EarlyAnswerRoute | null {
  for (const route of routes().values()) if (route.accepts(request)) return route;
  return null;
}

/** A header of an early request as one string (repeated headers joined, as Headers.get does). */
export function earlyHeader(request: EarlyRequest, name: string): string | null {
  const value = request.headers[name];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(", ") : value;
}

/**
 * X-Forwarded-For as Next's server passes it to a route: the request's own header, or the
 * connection's peer when it has none (next/dist/server/base-server.js sets it with `??=`).
 */
export function earlyForwardedFor(request: EarlyRequest): string {
  return earlyHeader(request, "x-forwarded-for") ?? request.remoteAddress ?? "";
}

/**
 * The request as a route handler would get it, for an early answer that reads its caller with the
 * app's own functions (lib/auth/request-caller.ts): the same headers, X-Forwarded-For as Next sets
 * it. Its URL has the request's path and query on a fixed origin (the Host header is the client's
 * to write, and nothing that reads a caller looks at it).
 */
export function earlyFetchRequest(request: EarlyRequest): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const each of value) headers.append(name, each);
    else headers.set(name, value);
  }
  headers.set("x-forwarded-for", earlyForwardedFor(request));
  return new Request(new URL(request.url, "http://localhost"), { headers });
}
