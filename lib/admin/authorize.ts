import "server-only";
import { currentUser, type SessionUser } from "../auth/session";
import { ApiError } from "../errors";

/**
 * Every admin data function and action takes the acting user and checks it here itself, even
 * behind the admin layout: a layout does not guard server actions or route handlers.
 */
export type AdminActor = SessionUser & { role: "ADMIN" };

export function assertAdmin(actor: SessionUser | null | undefined): asserts actor is AdminActor {
  if (!actor) throw new ApiError(401, "UNAUTHORIZED", "Sign in as an organiser.");
  if (actor.role !== "ADMIN") throw new ApiError(403, "FORBIDDEN", "Only organisers may do this.");
}

/** The signed-in organiser of this request (cookie session), or a 401/403 ApiError. */
export async function requireAdminSession(): Promise<AdminActor> {
  const user = await currentUser();
  assertAdmin(user);
  return user;
}
