import "server-only";
import { authenticateBearer, type ApiCaller } from "./api-token";
import { currentUser } from "./session";
import { ApiError } from "../errors";

/**
 * The caller of an API route: a Bearer token when the request carries an Authorization header
 * (curl, scripts), else the browser's signed-in session (the upload form and live pages use the
 * same routes as curl).
 */
export async function authenticateRequest(request: Request): Promise<ApiCaller> {
  if (request.headers.has("authorization")) return authenticateBearer(request);
  const user = await currentUser();
  if (!user) {
    throw new ApiError(401, "UNAUTHORIZED", "Sign in, or send `Authorization: Bearer YOUR_TOKEN`.", {}, { "WWW-Authenticate": 'Bearer realm="mls-goat"' });
  }
  return { userId: user.id, role: user.role, teamId: user.team?.id ?? null, tokenId: null };
}
