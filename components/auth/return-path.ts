/** Where to go after signing in: only a path on this site, so `?next=` cannot send anyone elsewhere. */
export function safeReturnPath(next: string | null | undefined, fallback = "/tasks"): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return fallback;
  return next;
}
