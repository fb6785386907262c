/**
 * The leaderboard page as anonymous readers get it, kept as HTML in the web process: rendering 100
 * rows costs ~14 ms of CPU, and a final hour of anonymous refreshes asks for the same page again and
 * again. proxy.ts answers such a request from here; on a miss it has the page rendered once by this
 * same server (a request to its own address marked with PAGE_RENDER_HEADER, which the proxy lets
 * through to Next as any page), and keeps the answer: its bytes and its Content-Security-Policy.
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

/**
 * Whether a request may get the kept page, and the theme it is rendered with: a plain GET of the
 * HTML (not Next's client-side navigation or prefetch, not a server action) by someone without a
 * session cookie or token. A signed-in reader gets the page rendered for them (their own row).
 */
export function anonymousPageRequest(method: string, headers: Headers): { theme: string } | null {
  if (method !== "GET") return null;
  for (const name of ["authorization", "rsc", "next-router-prefetch", "next-router-state-tree", "next-action", PAGE_RENDER_HEADER]) {
    if (headers.has(name)) return null;
  }
  const cookie = headers.get("cookie");
  if (holdsSessionCookie(cookie)) return null;
  let theme = "system";
  for (const part of (cookie ?? "").split(";")) {
    const at = part.indexOf("=");
    const name = (at < 0 ? part : part.slice(0, at)).trim();
    if (name === THEME_COOKIE) {
      const value = part.slice(at + 1).trim();
      theme = THEMES.has(value) ? value : "system";
    }
  }
  return { theme };
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
 * The kept page for `key`, or one rendered by `render` (one render at a time per key; requests
 * that arrive meanwhile wait for it). Null when the render is not a 200 HTML answer with a nonce
 * policy: the request is then served as any page.
 */
export async function leaderboardPage(key: string, slug: string, render: () => Promise<Response>): Promise<{ page: CachedPage; hit: boolean } | null> {
  const { pages, filling, generations } = store();
  const kept = pages.get(key);
  if (kept && Date.now() - kept.storedAt < MAX_AGE_MS) return { page: kept, hit: true };
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
