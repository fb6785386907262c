import { encode } from "next-auth/jwt";
import { db } from "@/lib/db";

/**
 * A real next-auth session cookie for a user, signed with the test run's NEXTAUTH_SECRET: what a
 * browser sends after signing in (with the user's current session version, as sign-in writes it).
 * Route handlers read it from the request (lib/auth/request-caller.ts).
 */
export async function sessionCookie(user: { id: number; role: "PARTICIPANT" | "ADMIN" }): Promise<string> {
  const { sessionVersion } = await db.user.findUniqueOrThrow({ where: { id: user.id }, select: { sessionVersion: true } });
  const token = await encode({ token: { uid: user.id, role: user.role, sub: String(user.id), sv: sessionVersion }, secret: process.env.NEXTAUTH_SECRET! });
  return `next-auth.session-token=${token}`;
}
