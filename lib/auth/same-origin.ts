import "server-only";
import { env } from "../env";
import { ApiError } from "../errors";

/**
 * Cross-site request forgery guard for POST routes authenticated by the session cookie (uploads,
 * organisers' dataset and reference uploads), as Next checks server actions: the browser's
 * `Origin` must be this site (the host it asked for, or PUBLIC_URL). Browsers send Origin with
 * every POST; a request without one, or from another site, is refused. Bearer-token callers
 * (curl, scripts) carry no ambient credential and need no Origin.
 */
export function assertSameOrigin(request: Request): void {
  const origin = request.headers.get("origin");
  if (!origin || !allowedHosts(request).has(hostOf(origin) ?? "")) {
    throw new ApiError(403, "FORBIDDEN", "This request did not come from this site's pages. Use the upload form, or send an API token.");
  }
}

function allowedHosts(request: Request): Set<string> {
  const hosts = new Set<string>();
  const forwarded = request.headers.get("x-forwarded-host")?.split(",")[0].trim();
  if (forwarded) hosts.add(forwarded.toLowerCase());
  const host = request.headers.get("host");
  if (host) hosts.add(host.toLowerCase());
  if (!forwarded && !host) hosts.add(new URL(request.url).host.toLowerCase());
  const publicUrl = env().PUBLIC_URL;
  const configured = publicUrl ? hostOf(publicUrl) : null;
  if (configured) hosts.add(configured);
  return hosts;
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return null;
  }
}
