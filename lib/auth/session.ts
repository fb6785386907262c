import "server-only";
import { getServerSession } from "next-auth";
import { redirect } from "next/navigation";
import { db } from "../db";
import { authOptions } from "./options";

/** The signed-in user as pages and actions see them, re-read from Postgres on every request. */
export interface SessionUser {
  id: number;
  email: string;
  name: string;
  role: "PARTICIPANT" | "ADMIN";
  team: { id: number; name: string } | null;
}

export async function currentUser(): Promise<SessionUser | null> {
  const session = (await getServerSession(authOptions)) as { uid?: number } | null;
  return session?.uid ? sessionUserById(session.uid) : null;
}

/** The session's user by id, or null when the account is gone or disabled. */
export async function sessionUserById(userId: number): Promise<SessionUser | null> {
  const user = await db.user.findUnique({
    where: { id: userId },
    select: { id: true, email: true, name: true, role: true, disabledAt: true, membership: { select: { team: { select: { id: true, name: true } } } } },
  });
  if (!user || user.disabledAt) return null;
  return { id: user.id, email: user.email, name: user.name, role: user.role, team: user.membership?.team ?? null };
}

/** For pages that need a signed-in user: redirects to the sign-in page (and back afterwards). */
export async function requireUser(returnTo: string): Promise<SessionUser> {
  const user = await currentUser();
  if (!user) redirect(`/signin?next=${encodeURIComponent(returnTo)}`);
  return user;
}
