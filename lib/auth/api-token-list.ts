import "server-only";
import { z } from "zod";
import { createApiToken, revokeApiToken, type CreatedApiToken } from "./api-token";
import type { SessionUser } from "./session";
import { db } from "../db";
import { ApiError } from "../errors";

/** The tokens page: a user's own API tokens (never their hashes), created and revoked by their owner only. */
export interface ApiTokenView {
  id: number;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  state: "active" | "revoked" | "expired";
}

export async function apiTokensOfUser(user: SessionUser, now = new Date()): Promise<ApiTokenView[]> {
  const rows = await db.apiToken.findMany({
    where: { userId: user.id },
    select: { id: true, name: true, prefix: true, createdAt: true, lastUsedAt: true, expiresAt: true, revokedAt: true },
    orderBy: [{ revokedAt: { sort: "desc", nulls: "first" } }, { createdAt: "desc" }],
  });
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    state: row.revokedAt ? "revoked" : row.expiresAt && row.expiresAt <= now ? "expired" : "active",
  }));
}

export const tokenNameSchema = z.string().trim().min(1, "give the token a name, e.g. laptop").max(60, "at most 60 characters");
/** Enough for any honest use; a runaway script creating tokens in a loop stops here. */
const MAX_ACTIVE_TOKENS = 20;

export async function createApiTokenForUser(user: SessionUser, name: string): Promise<CreatedApiToken> {
  const tokenName = tokenNameSchema.parse(name);
  const active = await db.apiToken.count({ where: { userId: user.id, revokedAt: null } });
  if (active >= MAX_ACTIVE_TOKENS) throw new ApiError(409, "CONFLICT", `You have ${active} active tokens; revoke one first.`);
  return createApiToken(user.id, tokenName);
}

/** Revokes one of the user's own tokens; another user's token id is "not found", as an unknown one. */
export async function revokeApiTokenOfUser(user: SessionUser, tokenId: number): Promise<void> {
  if (!Number.isSafeInteger(tokenId) || !(await revokeApiToken(user.id, tokenId))) {
    throw new ApiError(404, "NOT_FOUND", "There is no active token of yours with this id.");
  }
}
