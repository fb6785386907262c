/**
 * Where to go after signing in: only a path on this site, so `?next=` cannot send anyone elsewhere.
 * The value is parsed as the browser would parse it (the URL parser drops tabs and newlines and
 * reads `\` as `/`, so `/\t/evil.example` becomes `//evil.example`), against a fixed origin, and
 * refused unless it stays on that origin; what comes back is the parser's normalised path.
 */
const SITE_ORIGIN = "http://mls-goat.invalid";

export function safeReturnPath(next: string | null | undefined, fallback = "/tasks"): string {
  if (!next || !next.startsWith("/")) return fallback;
  let url: URL;
  try {
    url = new URL(next, SITE_ORIGIN);
  } catch {
    return fallback;
  }
  if (url.origin !== SITE_ORIGIN) return fallback;
  const path = `${url.pathname}${url.search}${url.hash}`;
  // A normalised path never starts with `//`, but make sure: the browser would read it as a host.
  return path.startsWith("//") ? fallback : path;
}
