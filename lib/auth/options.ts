import "server-only";
import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { verifyPassword } from "../accounts";

/**
 * next-auth 4 with email + password (Credentials) and JWT sessions (Credentials cannot use
 * database sessions). The token carries the user id and role; pages re-read the user from
 * Postgres on every request (lib/auth/session.ts), so a disabled user or a changed role takes
 * effect at once.
 */
export const authOptions: NextAuthOptions = {
  // Required in production; `npm run demo` generates one into var/demo/nextauth-secret.
  secret: process.env.NEXTAUTH_SECRET,
  session: { strategy: "jwt", maxAge: 7 * 24 * 3600 },
  pages: { signIn: "/signin" },
  providers: [
    CredentialsProvider({
      name: "Email and password",
      credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
      async authorize(credentials) {
        if (!credentials?.email || !credentials.password) return null;
        const user = await verifyPassword(credentials.email, credentials.password);
        return user ? { id: String(user.id), email: user.email, name: user.name, role: user.role } : null;
      },
    }),
  ],
  callbacks: {
    async jwt({ token, user }) {
      if (user) {
        token.uid = Number(user.id);
        token.role = (user as { role?: "PARTICIPANT" | "ADMIN" }).role ?? "PARTICIPANT";
      }
      return token;
    },
    async session({ session, token }) {
      return { ...session, uid: token.uid as number | undefined, role: token.role as string | undefined };
    },
  },
};
