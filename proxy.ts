import { NextResponse, type NextRequest } from "next/server";
import { contentSecurityPolicy, STRICT_TRANSPORT_SECURITY } from "./lib/http/security-headers";

/**
 * Next's proxy (formerly middleware): a Content-Security-Policy with a fresh nonce for every page
 * (the JSON API is outside the matcher below). The nonce goes to Next in the request's CSP header, and Next adds it to the
 * scripts it renders. The other security headers (frame, sniffing, referrer) come from
 * next.config.mjs `headers()`, which covers every path.
 */
export function proxy(request: NextRequest) {
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  const https = request.nextUrl.protocol === "https:" || request.headers.get("x-forwarded-proto")?.split(",")[0].trim() === "https";
  const policy = contentSecurityPolicy(nonce, { development: process.env.NODE_ENV === "development", https });
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("x-nonce", nonce);
  requestHeaders.set("content-security-policy", policy);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set("content-security-policy", policy);
  if (https) response.headers.set("strict-transport-security", STRICT_TRANSPORT_SECURITY);
  return response;
}

export const config = {
  matcher: [
    {
      // A proxy that matches a route buffers its request body and cuts it at 10 MB, so the upload
      // routes (POST /submit/{task}, the organisers' dataset and reference uploads) stay out. So
      // does the JSON API (the leaderboard poll is the hottest path): a JSON answer runs no script
      // and needs no nonce. next.config.mjs gives both a fixed policy that allows nothing. The two
      // API paths that answer HTML (next-auth's pages, Swagger UI) stay in. Static files need none.
      source: "/((?!_next/static|_next/image|favicon\\.ico|submit/[^/]+$|api/(?!auth(?:/|$)|docs(?:/|$))).*)",
    },
  ],
};
