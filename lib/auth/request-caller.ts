import "server-only";
import { getToken } from "next-auth/jwt";
import { authenticateBearer, type ApiCaller } from "./api-token";
import { sessionUserById } from "./session";
import { ApiError } from "../errors";

/**
 * The caller of an API route: a Bearer token when the request carries an Authorization header
 * (curl, scripts), else the browser's signed-in session (the upload form and live pages use the
 * same routes as curl). The session is read from the request's own cookie, not from Next's request
 * scope, so route handlers authenticate the same way wherever they are called from.
 */
export async function authenticateRequest(request: Request): Promise<ApiCaller> {
  if (request.headers.has("authorization")) return authenticateBearer(request);
  const userId = await sessionUserIdFromCookie(request);
  const user = userId ? await sessionUserById(userId) : null;
  if (!user) {
    throw new ApiError(401, "UNAUTHORIZED", "Sign in, or send `Authorization: Bearer YOUR_TOKEN`.", {}, { "WWW-Authenticate": 'Bearer realm="mls-goat"' });
  }
  return { userId: user.id, role: user.role, teamId: user.team?.id ?? null, tokenId: null };
}

async function sessionUserIdFromCookie(request: Request): Promise<number | null> {
  const header = request.headers.get("cookie");
  if (!header) return null;
  // next-auth's getToken reads `req.cookies` (a Map works); a plain Request only has the header.
  const cookies = new Map<string, string>();
  for (const part of header.split(";")) {
    const at = part.indexOf("=");
    if (at > 0) cookies.set(part.slice(0, at).trim(), decodeURIComponent(part.slice(at + 1).trim()));
  }
  const token = await getToken({ req: { headers: request.headers, cookies } as unknown as Parameters<typeof getToken>[0]["req"] });
  return typeof token?.uid === "number" ? token.uid : null;
}
