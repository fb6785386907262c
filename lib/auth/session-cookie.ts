/**
 * Whether a request's Cookie header holds next-auth's session cookie (`next-auth.session-token`,
 * `__Secure-next-auth.session-token`, or their chunks `.0`, `.1`, ...). A request without one is
 * anonymous whatever other cookies it carries (the theme, next-auth's CSRF and callback cookies):
 * the session is read from that cookie alone (lib/auth/session.ts). No imports: Next's proxy uses it
 * too (lib/leaderboard/page-html-cache.ts), as does the leaderboard poll (lib/leaderboard/poll-answer.ts).
 */
export function holdsSessionCookie(cookieHeader: string | null | undefined): boolean {
  if (!cookieHeader) return false;
  for (const part of cookieHeader.split(";")) {
    const at = part.indexOf("=");
    if ((at < 0 ? part : part.slice(0, at)).includes("session-token")) return true;
  }
  return false;
}
