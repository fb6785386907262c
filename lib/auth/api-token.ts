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

/** A token with its user, as authenticateBearer reads it. */
interface TokenRow {
  id: number;
  revokedAt: Date | null;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  userId: number;
  role: ApiCaller["role"];
  disabled: boolean;
  teamId: number | null;
}

/** Reads `Authorization: Bearer TOKEN` and returns the caller, or throws a 401/403 ApiError. */
export async function authenticateBearer(request: Request): Promise<ApiCaller> {
  const header = request.headers.get("authorization");
  if (!header) throw unauthorized("Missing Authorization header. Send `Authorization: Bearer YOUR_TOKEN`.");
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw unauthorized("The Authorization header must use the Bearer scheme: `Authorization: Bearer YOUR_TOKEN`.");

  // One statement, as every scripted request asks it: the ORM's nested select of the user and the
  // membership took ~2 ms of CPU per call, this ~1 with the last-used check (integration environment).
  const [token] = await db.$queryRaw<TokenRow[]>`
    SELECT k.id, k.revoked_at AS "revokedAt", k.expires_at AS "expiresAt", k.last_used_at AS "lastUsedAt",
      u.id AS "userId", u.role::text AS role, u.disabled_at IS NOT NULL AS disabled, m.team_id AS "teamId"
    FROM api_tokens AS k JOIN users AS u ON u.id = k.user_id LEFT JOIN team_members AS m ON m.user_id = u.id
    WHERE k.token_hash = ${hashApiToken(match[1])}`;
  if (!token) throw unauthorized("This API token is not valid.");
  if (token.revokedAt) throw unauthorized("This API token was revoked. Create a new one on the tokens page.");
  const now = new Date();
  if (token.expiresAt && token.expiresAt <= now) {
    throw unauthorized(`This API token expired at ${token.expiresAt.toISOString()}. Create a new one on the tokens page.`);
  }
  if (token.disabled) throw new ApiError(403, "FORBIDDEN", "This account is disabled. Contact the organisers.");

  if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: now } });
  }
  return { userId: token.userId, role: token.role, teamId: token.teamId, tokenId: token.id };
}
