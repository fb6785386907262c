import "server-only";
import type { EarlyAnswer, EarlyAnswerRoute, EarlyRequest } from "../http/early-answers";
import { earlyHeader } from "../http/early-answers";
import { gzippedFor } from "../http/early-gzip";
import { cameOverHttps, EVERY_ANSWER_HEADERS } from "../http/security-headers";
import { webMetrics } from "../observability/metrics";
import { keptLeaderboardPage, keptPageHeaders, keptPageKey, keptPageRequest, leaderboardPageSlug } from "./page-html-cache";

/** The leaderboard page's path, with or without a query (lib/leaderboard/page-html-cache.ts leaderboardPageSlug says the rest). */
const LEADERBOARD_PAGE = /^\/tasks\/[^/?#]+\/leaderboard(?:[?#]|$)/;

/**
 * The kept leaderboard page, answered by the web server before Next (lib/http/early-answers.ts).
 *
 * proxy.ts keeps the page (rendered once per board change, lib/leaderboard/page-html-cache.ts) and
 * serves it from inside Next, whose routing and proxy adapter cost ~0.6-2.4 ms of CPU per request
 * by the machine (`npm run bench:load`, docs/performance.md): more than the rest of the answer. This
 * answers the same requests from the same kept pages, with the same bytes and headers: the render's
 * own Content-Security-Policy, next.config.mjs's headers for every answer, HSTS over HTTPS, and gzip
 * compressed once per kept page. It only serves what is kept: it declines whatever the proxy would
 * not serve from its store (the same keptPageRequest and key), and a page not kept or no longer
 * fresh (Next's proxy then renders and keeps it). Development never keeps pages.
 */
export const leaderboardPageEarly: EarlyAnswerRoute = {
  name: "leaderboard-page",
  accepts: (request: EarlyRequest) => request.method === "GET" && LEADERBOARD_PAGE.test(request.url),
  async answer(request: EarlyRequest): Promise<EarlyAnswer | null> {
    if (process.env.NODE_ENV === "development") return null;
    // As Next's URL of the request, which the proxy keys the page by: its path and query.
    const url = new URL(request.url, "http://localhost");
    if (!leaderboardPageSlug(url.pathname)) return null;
    const reader = keptPageRequest(request.method, { get: (name) => earlyHeader(request, name) });
    if (!reader) return null;
    const https = cameOverHttps(earlyHeader(request, "x-forwarded-proto"));
    const page = keptLeaderboardPage(keptPageKey(https, reader, `${url.pathname}${url.search}`));
    if (!page) return null;
    // What Next adds to the proxy's answer: next.config.mjs's headers, and Accept-Encoding in Vary.
    const headers: Record<string, string> = { ...EVERY_ANSWER_HEADERS, ...keptPageHeaders(page, { hit: true, https }), vary: withAcceptEncoding(page.headers.vary) };
    const compressed = gzippedFor(request, page.body);
    if (compressed) headers["content-encoding"] = "gzip";
    webMetrics().earlyAnswers.inc({ route: "leaderboard-page" });
    return { status: 200, headers, body: compressed ?? page.body };
  },
};

/** A Vary header that names Accept-Encoding (the answer is gzipped by it), as Next's compression adds it. */
function withAcceptEncoding(vary: string | undefined): string {
  if (!vary) return "Accept-Encoding";
  return vary.split(",").some((name) => name.trim().toLowerCase() === "accept-encoding") ? vary : `${vary}, Accept-Encoding`;
}
