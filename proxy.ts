import { NextResponse, type NextRequest } from "next/server";
import { keptPageHeaders, keptPageKey, keptPageRequest, leaderboardPage, leaderboardPageSlug, PAGE_RENDER_HEADER } from "./lib/leaderboard/page-html-cache";
import { cameOverHttps, contentSecurityPolicy, STRICT_TRANSPORT_SECURITY } from "./lib/http/security-headers";

/**
 * Next's proxy (formerly middleware): a Content-Security-Policy with a fresh nonce for every page
 * (the JSON API is outside the matcher below). The nonce goes to Next in the request's CSP header,
 * and Next adds it to the scripts it renders. The other security headers (frame, sniffing,
 * referrer) come from next.config.mjs `headers()`, which covers every path.
 *
 * A leaderboard page is answered from the page kept in this process (lib/leaderboard/page-html-cache.ts:
 * rendered once per board change, with its own nonce; one variant for anonymous readers, one for
 * signed-in ones, whose own part the browser fills in). Under the built web server a kept page
 * that is fresh never reaches here (lib/leaderboard/page-early-answer.ts answers it before Next):
 * the proxy renders and keeps it, and serves it where the web server is not in front.
 */
export async function proxy(request: NextRequest) {
  const https = request.nextUrl.protocol === "https:" || cameOverHttps(request.headers.get("x-forwarded-proto"));
  const kept = await keptPageAnswer(request, https);
  if (kept) return kept;
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  const policy = contentSecurityPolicy(nonce, { development: process.env.NODE_ENV === "development", https });
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("x-nonce", nonce);
  requestHeaders.set("content-security-policy", policy);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set("content-security-policy", policy);
  if (https) response.headers.set("strict-transport-security", STRICT_TRANSPORT_SECURITY);
  return response;
}

/**
 * The kept page for a reader of a leaderboard, or null (not such a request; no address
 * of this server to render at, as in tests; a render that is not a page). Development renders
 * every request (the code changes under it).
 */
async function keptPageAnswer(request: NextRequest, https: boolean): Promise<NextResponse | null> {
  const origin = process.env.__NEXT_PRIVATE_ORIGIN;
  const slug = leaderboardPageSlug(request.nextUrl.pathname);
  if (!slug || !origin || process.env.NODE_ENV === "development") return null;
  const reader = keptPageRequest(request.method, request.headers);
  if (!reader) return null;
  const path = `${request.nextUrl.pathname}${request.nextUrl.search}`;
  const found = await leaderboardPage(keptPageKey(https, reader, path), slug, () =>
    fetch(`${origin}${path}`, {
      headers: {
        [PAGE_RENDER_HEADER]: reader.audience,
        accept: "text/html",
        "accept-encoding": "identity",
        "x-forwarded-proto": https ? "https" : "http",
        ...(reader.theme === "system" ? {} : { cookie: `goat-theme=${reader.theme}` }),
      },
      redirect: "manual",
      signal: AbortSignal.timeout(30_000),
    }),
  );
  if (!found) return null;
  return new NextResponse(found.page.body as BodyInit, { headers: keptPageHeaders(found.page, { hit: found.hit, https }) });
}

export const config = {
  matcher: [
    {
      // A proxy that matches a route buffers its request body and cuts it at 10 MB, so the upload
      // routes (POST /submit/{task}, the organisers' dataset and reference uploads) stay out. So
      // does the JSON API (the leaderboard poll is the hottest path): a JSON answer runs no script
      // and needs no nonce. next.config.mjs gives both a fixed policy that allows nothing. Swagger UI
      // (/api/docs) is static HTML with nonce-less scripts of this origin: it gets a fixed policy
      // there too. next-auth's pages (/api/auth/) stay in. Static files need none.
      source: "/((?!_next/static|_next/image|favicon\\.ico|submit/[^/]+$|api/(?!auth(?:/|$))).*)",
    },
  ],
};
