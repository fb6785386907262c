/**
 * The Content-Security-Policy of pages and API answers (proxy.ts adds it with a fresh nonce per
 * request; Next puts that nonce on its own scripts: https://nextjs.org/docs/app/guides/content-security-policy).
 * Scripts run only with the nonce ('strict-dynamic' lets them load Next's chunks); eval only in
 * development, where React needs it for its debugging tools. Styles allow inline: the charts set
 * style attributes, and inline styles cannot run code. No one may frame the site (clickjacking).
 * No `server-only` here: the proxy imports it.
 */
export function contentSecurityPolicy(nonce: string, { development, https }: { development: boolean; https: boolean }): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${development ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' blob: data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    ...(https ? ["upgrade-insecure-requests"] : []),
  ].join("; ");
}

/**
 * Whether the browser came over HTTPS, as the reverse proxy in front says in X-Forwarded-Proto (the
 * first of a list: the proxy nearest the browser). Pages' policies and HSTS follow it.
 */
export function cameOverHttps(forwardedProto: string | null): boolean {
  return forwardedProto?.split(",")[0].trim() === "https";
}

/** HSTS once a browser reached us over HTTPS (the proxy in front says so in X-Forwarded-Proto). */
export const STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains";

/**
 * The headers next.config.mjs `headers()` puts on every answer, and the policy it gives the JSON
 * API. Repeated here for answers the web server gives before Next (lib/http/early-answers.ts);
 * tests/unit/early-answer-headers.test.ts checks the two stay the same.
 */
export const EVERY_ANSWER_HEADERS: Readonly<Record<string, string>> = {
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "strict-origin-when-cross-origin",
  "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
};
export const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";

/** What next.config.mjs adds to a JSON API answer (HSTS when the proxy in front says the request came over HTTPS). */
export function apiAnswerHeaders(forwardedProto: string | null): Record<string, string> {
  return {
    ...EVERY_ANSWER_HEADERS,
    "Content-Security-Policy": API_CONTENT_SECURITY_POLICY,
    ...(forwardedProto === "https" ? { "Strict-Transport-Security": STRICT_TRANSPORT_SECURITY } : {}),
  };
}
