/**
 * The leaderboard page, kept as HTML in the web process: rendering 100 rows costs ~14 ms of CPU,
 * and a final hour of refreshes asks for the same page again and again. proxy.ts answers such a
 * request from here; on a miss it has the page rendered once by this same server (a request to its
 * own address marked with PAGE_RENDER_HEADER, which the proxy lets through to Next as any page),
 * and keeps the answer: its bytes and its Content-Security-Policy.
 *
 * Signed-in readers get a kept page too. The page holds nothing of its reader: a signed-in reader's
 * variant differs from the anonymous one only in the site header's account links, which the browser
 * fills in with the reader's own part of the board (their row, their chart, their bar in the
 * histogram) from one request (lib/leaderboard/viewer.ts). Two variants per page, theme and query:
 * "anonymous" (the header's sign-in links) and "member" (the header's account links left to the
 * browser), chosen by whether the request holds a session cookie, not by whose it is.
 *
 * The nonce: Next puts the render's nonce on the page's scripts, and every reader of the cached
 * page gets the same page with the same policy. A nonce stops markup injected into a page from
 * running as script; a cached page is fixed when it is rendered (with a fresh random nonce), so
 * knowing its nonce afterwards lets no one put a script into it. The policy stays the strict one
 * (nonce and 'strict-dynamic', no 'unsafe-inline').
 *
 * A page is dropped with its task's boards (lib/leaderboard/cache.ts forgetLeaderboards: a new
 * score over Redis, a reveal, an organiser's edit), and after MAX_AGE_MS whatever happens, the same
 * bound as the boards' own cache. A render that was under way when its task's boards were dropped
 * is served to the requests that waited for it but not kept.
 *
 * The proxy's bundle and the app's each hold a copy of this module: they share its state through
 * globalThis (one process), not the module itself; what it imports keeps no state.
 */
import { holdsSessionCookie } from "../auth/session-cookie";
import { STRICT_TRANSPORT_SECURITY } from "../http/security-headers";

export const PAGE_RENDER_HEADER = "x-goat-page-render";
/** On an answer from the proxy: "hit" (kept HTML) or "miss" (rendered for this request and kept). */
export const PAGE_CACHE_HEADER = "x-goat-page-cache";

const MAX_AGE_MS = 10_000;
/** Pages kept per process (a query string is part of the key: a crowd of odd queries only misses). */
const MAX_PAGES = 64;
const THEME_COOKIE = "goat-theme";
const THEMES = new Set(["light", "dark"]);

export interface CachedPage {
  slug: string;
  body: Uint8Array;
  headers: Record<string, string>;
  storedAt: number;
}

interface Store {
  pages: Map<string, CachedPage>;
  filling: Map<string, Promise<CachedPage | null>>;
  /** bumped when a task's boards are dropped: a render begun before is not kept */
  generations: Map<string, number>;
}

const globalForPages = globalThis as unknown as { goatLeaderboardPages?: Store };

function store(): Store {
  globalForPages.goatLeaderboardPages ??= { pages: new Map(), filling: new Map(), generations: new Map() };
  return globalForPages.goatLeaderboardPages;
}

/** The task of a leaderboard page path (`/tasks/{slug}/leaderboard`), or null. */
export function leaderboardPageSlug(pathname: string): string | null {
  const match = /^\/tasks\/([^/]+)\/leaderboard$/.exec(pathname);
  return match ? decodeURIComponent(match[1]) : null;
}

/** Whom a kept page is rendered for: no one signed in, or a signed-in reader whose header the browser fills in. */
export type PageAudience = "anonymous" | "member";

/** The audience a render was asked for by the proxy (the PAGE_RENDER_HEADER's value), or null for a page rendered for its own request. */
export function keptPageAudience(renderHeader: string | null): PageAudience | null {
  return renderHeader === "anonymous" || renderHeader === "member" ? renderHeader : null;
}

/** A request's headers as Headers.get reads them (the proxy's Headers, or the web server's raw ones: lib/leaderboard/page-early-answer.ts). */
export interface RequestHeaders {
  get(name: string): string | null;
}

/** Which kept page a reader gets: the theme it is rendered with, and its audience. */
export interface KeptPageReader {
  theme: string;
  audience: PageAudience;
}

/**
 * The key of a kept page: the scheme the browser came by (an HTTPS page's policy differs), the
 * reader's theme and audience, and the path with its query as the request named them.
 */
export function keptPageKey(https: boolean, reader: KeptPageReader, pathWithQuery: string): string {
  return `${https ? "https" : "http"}|${reader.theme}|${reader.audience}|${pathWithQuery}`;
}

/**
 * Whether a request may get a kept page, and which: a browser's GET of the page as a document (not
 * Next's own fetch of it, not a server action, no token), the theme it is rendered with, and its
 * audience (a session cookie, valid or not, gets the "member" variant; the browser learns whose it is).
 */
export function keptPageRequest(method: string, headers: RequestHeaders): KeptPageReader | null {
  if (method !== "GET" || !documentRequest(headers)) return null;
  for (const name of ["authorization", "next-action", PAGE_RENDER_HEADER]) {
    if (headers.get(name) !== null) return null;
  }
  const cookie = headers.get("cookie");
  const audience: PageAudience = holdsSessionCookie(cookie) ? "member" : "anonymous";
  let theme = "system";
  for (const part of (cookie ?? "").split(";")) {
    const at = part.indexOf("=");
    const name = (at < 0 ? part : part.slice(0, at)).trim();
    if (name === THEME_COOKIE) {
      const value = part.slice(at + 1).trim();
      theme = THEMES.has(value) ? value : "system";
    }
  }
  return { theme, audience };
}

/**
 * A browser loading the page as a document: it names HTML among what it accepts, and where it says
 * what it fetches (Sec-Fetch-Dest, sent over HTTPS and to localhost) it says "document". Next's own
 * fetches of the page (a client-side navigation, a prefetch, router.refresh: the RSC payload, not
 * HTML) accept anything and say "empty"; Next strips their RSC headers and `_rsc` parameter before
 * the proxy runs (next/dist/server/web/adapter.js), so these are what tell them apart here. Given
 * the kept HTML, the browser's router would load the page again as a document (a full reload).
 */
function documentRequest(headers: RequestHeaders): boolean {
  const destination = headers.get("sec-fetch-dest");
  if (destination !== null && destination !== "document") return false;
  return (headers.get("accept") ?? "").includes("text/html");
}

/** Drops a task's kept pages; a render of one under way is not kept. */
export function forgetLeaderboardPages(slug: string): void {
  const { pages, generations } = store();
  generations.set(slug, (generations.get(slug) ?? 0) + 1);
  for (const [key, page] of pages) if (page.slug === slug) pages.delete(key);
}

/** The answer's headers a kept page is served with (the rest are this server's per-request ones). */
const KEPT_HEADERS = ["content-type", "content-security-policy", "cache-control", "vary", "link"];

/**
 * The headers a kept page is served with, by the proxy (a miss or a hit) or by the web server before
 * Next (a hit): the render's own (KEPT_HEADERS), whether it was kept already, and HSTS when the
 * browser came over HTTPS. The rest are the server's per-request ones (and next.config.mjs's).
 */
export function keptPageHeaders(page: CachedPage, { hit, https }: { hit: boolean; https: boolean }): Record<string, string> {
  return { ...page.headers, ...(https ? { "strict-transport-security": STRICT_TRANSPORT_SECURITY } : {}), [PAGE_CACHE_HEADER]: hit ? "hit" : "miss" };
}

/** The page kept for `key` while it is fresh, or null; never renders (the web server's early answer asks this). */
export function keptLeaderboardPage(key: string): CachedPage | null {
  const kept = store().pages.get(key);
  return kept && Date.now() - kept.storedAt < MAX_AGE_MS ? kept : null;
}

/**
 * The kept page for `key`, or one rendered by `render` (one render at a time per key; requests
 * that arrive meanwhile wait for it). Null when the render is not a 200 HTML answer with a nonce
 * policy: the request is then served as any page.
 */
export async function leaderboardPage(key: string, slug: string, render: () => Promise<Response>): Promise<{ page: CachedPage; hit: boolean } | null> {
  const kept = keptLeaderboardPage(key);
  if (kept) return { page: kept, hit: true };
  const { pages, filling, generations } = store();
  let pending = filling.get(key);
  if (!pending) {
    const generation = generations.get(slug) ?? 0;
    pending = renderPage(slug, render)
      .then((page) => {
        if (page && (generations.get(slug) ?? 0) === generation) {
          pages.delete(key);
          if (pages.size >= MAX_PAGES) pages.delete(pages.keys().next().value!);
          pages.set(key, page);
        }
        return page;
      })
      .finally(() => filling.delete(key));
    filling.set(key, pending);
  }
  const page = await pending;
  return page && { page, hit: false };
}

async function renderPage(slug: string, render: () => Promise<Response>): Promise<CachedPage | null> {
  let response: Response;
  try {
    response = await render();
  } catch {
    return null;
  }
  const body = new Uint8Array(await response.arrayBuffer().catch(() => new ArrayBuffer(0)));
  const policy = response.headers.get("content-security-policy") ?? "";
  if (response.status !== 200 || !response.headers.get("content-type")?.startsWith("text/html") || !/'nonce-[^']+'/.test(policy) || body.length === 0) return null;
  const headers: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = response.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  return { slug, body, headers, storedAt: Date.now() };
}
