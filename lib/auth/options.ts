import "server-only";
import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { db } from "../db";
import { clientIp } from "../http/client-ip";
import { signInWithPassword } from "./sign-in";

/**
 * next-auth 4 with email + password (Credentials) and JWT sessions (Credentials cannot use
 * database sessions). The token carries the user id, role and the user's session version; every
 * request re-reads the user from Postgres (lib/auth/session.ts) and refuses a token whose version
 * is no longer current, so signing out, being disabled or a role change end the session on the
 * server, not only in the browser that held it.
 */
export const authOptions: NextAuthOptions = {
  // Required in production (lib/env.ts refuses a weak one); `npm run demo` generates one into var/demo/nextauth-secret.
  secret: process.env.NEXTAUTH_SECRET,
  session: { strategy: "jwt", maxAge: 7 * 24 * 3600 },
  pages: { signIn: "/signin" },
  providers: [
    CredentialsProvider({
      name: "Email and password",
      credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
      async authorize(credentials, req) {
        if (!credentials?.email || !credentials.password) return null;
        // next-auth hands over the request's headers as a plain object.
        const headers = new Headers(Object.entries(req?.headers ?? {}).map(([name, value]): [string, string] => [name, String(value)]));
        const user = await signInWithPassword(credentials.email, credentials.password, clientIp({ headers }));
        return user ? { id: String(user.id), email: user.email, name: user.name, role: user.role, sessionVersion: user.sessionVersion } : null;
      },
    }),
  ],
  callbacks: {
    async jwt({ token, user }) {
      if (user) {
        const signedIn = user as { role?: "PARTICIPANT" | "ADMIN"; sessionVersion?: number };
        token.uid = Number(user.id);
        token.role = signedIn.role ?? "PARTICIPANT";
        token.sv = signedIn.sessionVersion ?? 0;
      }
      return token;
    },
    async session({ session, token }) {
      return { ...session, uid: token.uid as number | undefined, role: token.role as string | undefined };
    },
  },
  events: {
    // Sign-out ends the session server-side: the cookie's version stops being current, so a copy
    // of the cookie kept elsewhere no longer works either. A stale cookie changes nothing.
    async signOut({ token }) {
      if (typeof token?.uid !== "number" || typeof token.sv !== "number") return;
      await db.user.updateMany({ where: { id: token.uid, sessionVersion: token.sv }, data: { sessionVersion: { increment: 1 } } });
    },
  },
};
