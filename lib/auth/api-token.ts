import "server-only";
import { createHash, randomBytes } from "node:crypto";
import { db } from "../db";
import { ApiError } from "../errors";

/** Tokens look like `goat_<43 base64url chars>`; only their sha256 is stored. */
const TOKEN_PREFIX = "goat_";
/** Writing last-used on every request would turn each status poll into a write; once a minute is enough. */
const LAST_USED_RESOLUTION_MS = 60_000;

export function hashApiToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export interface CreatedApiToken {
  id: number;
  name: string;
  /** The secret itself: shown once, never stored. */
  token: string;
  prefix: string;
  expiresAt: Date | null;
}

export async function createApiToken(userId: number, name: string, expiresAt: Date | null = null): Promise<CreatedApiToken> {
  const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
  const prefix = token.slice(0, TOKEN_PREFIX.length + 6);
  const row = await db.apiToken.create({
    data: { userId, name, tokenHash: hashApiToken(token), prefix, expiresAt },
    select: { id: true, name: true, prefix: true, expiresAt: true },
  });
  return { ...row, token };
}

export async function revokeApiToken(userId: number, tokenId: number): Promise<boolean> {
  const { count } = await db.apiToken.updateMany({
    where: { id: tokenId, userId, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  return count === 1;
}

/** Who is calling the API: the user behind a Bearer token, and their team. */
export interface ApiCaller {
  userId: number;
  role: "PARTICIPANT" | "ADMIN";
  teamId: number | null;
  /** null when the caller is a signed-in browser session rather than a token */
  tokenId: number | null;
}

const unauthorized = (message: string) =>
  new ApiError(401, "UNAUTHORIZED", message, {}, { "WWW-Authenticate": 'Bearer realm="mls-goat"' });

/** Reads `Authorization: Bearer TOKEN` and returns the caller, or throws a 401/403 ApiError. */
export async function authenticateBearer(request: Request): Promise<ApiCaller> {
  const header = request.headers.get("authorization");
  if (!header) throw unauthorized("Missing Authorization header. Send `Authorization: Bearer YOUR_TOKEN`.");
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw unauthorized("The Authorization header must use the Bearer scheme: `Authorization: Bearer YOUR_TOKEN`.");

  const token = await db.apiToken.findUnique({
    where: { tokenHash: hashApiToken(match[1]) },
    select: {
      id: true,
      revokedAt: true,
      expiresAt: true,
      lastUsedAt: true,
      user: { select: { id: true, role: true, disabledAt: true, membership: { select: { teamId: true } } } },
    },
  });
  if (!token) throw unauthorized("This API token is not valid.");
  if (token.revokedAt) throw unauthorized("This API token was revoked. Create a new one on the tokens page.");
  const now = new Date();
  if (token.expiresAt && token.expiresAt <= now) {
    throw unauthorized(`This API token expired at ${token.expiresAt.toISOString()}. Create a new one on the tokens page.`);
  }
  if (token.user.disabledAt) throw new ApiError(403, "FORBIDDEN", "This account is disabled. Contact the organisers.");

  if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: now } });
  }
  return { userId: token.user.id, role: token.user.role, teamId: token.user.membership?.teamId ?? null, tokenId: token.id };
}
