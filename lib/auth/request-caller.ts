import "server-only";
import { authenticateBearer, type ApiCaller } from "./api-token";
import { sessionClaimFromCookies, sessionUserForClaim, type SessionUser } from "./session";
import { holdsSessionCookie } from "./session-cookie";
import { clientIp } from "../http/client-ip";
import { ApiError } from "../errors";
import { assertUnderLimit, recordLimitEvent } from "../http/rate-limits";

/**
 * The caller of an API route: a Bearer token when the request carries an Authorization header
 * (curl, scripts), else the browser's signed-in session (the upload form and live pages use the
 * same routes as curl). The session is read from the request's own cookie, not from Next's request
 * scope, so route handlers authenticate the same way wherever they are called from.
 */
export async function authenticateRequest(request: Request): Promise<ApiCaller> {
  if (!request.headers.has("authorization")) return resolveCaller(request);
  // Guessing tokens: an address that sent too many bad ones is refused before its next is looked up.
  const ip = clientIp(request);
  await assertUnderLimit("badTokensPerIp", ip);
  try {
    return await authenticateBearer(request);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) await recordLimitEvent("badTokensPerIp", ip);
    throw error;
  }
}

async function resolveCaller(request: Request): Promise<ApiCaller> {
  if (request.headers.has("authorization")) return authenticateBearer(request);
  const user = await sessionUserOfCookies(request.headers.get("cookie"));
  if (!user) {
    throw new ApiError(401, "UNAUTHORIZED", "Sign in, or send `Authorization: Bearer YOUR_TOKEN`.", {}, { "WWW-Authenticate": 'Bearer realm="mls-goat"' });
  }
  return { userId: user.id, role: user.role, teamId: user.team?.id ?? null, tokenId: null };
}

/**
 * The user a Cookie header's session cookie signs in, or null: no session cookie (other cookies
 * sign no one in, and cost no decryption), or one whose session ended. Route handlers and the web
 * server's early answers read a browser's session through here.
 */
export async function sessionUserOfCookies(cookieHeader: string | null): Promise<SessionUser | null> {
  if (!holdsSessionCookie(cookieHeader)) return null;
  const claim = await sessionClaimFromCookies(cookieJar(cookieHeader));
  return claim ? sessionUserForClaim(claim) : null;
}

/**
 * Whether the request's credentials still stand for the same caller: token not revoked or
 * expired, session not ended, account not disabled, same role, same team. Long-lived answers
 * (event streams) ask this every few seconds and close when it turns false.
 */
export async function callerStillValid(request: Request, caller: ApiCaller): Promise<boolean> {
  try {
    const now = await resolveCaller(request);
    return now.userId === caller.userId && now.role === caller.role && now.teamId === caller.teamId && now.tokenId === caller.tokenId;
  } catch {
    return false;
  }
}

function cookieJar(header: string | null): Map<string, string> {
  const jar = new Map<string, string>();
  if (!header) return jar;
  for (const part of header.split(";")) {
    const at = part.indexOf("=");
    if (at <= 0) continue;
    try {
      jar.set(part.slice(0, at).trim(), decodeURIComponent(part.slice(at + 1).trim()));
    } catch {
      // a malformed cookie value is ignored, as a browser's unknown cookie would be
    }
  }
  return jar;
}
