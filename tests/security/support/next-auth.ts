import { createRequire } from "node:module";
import path from "node:path";
import { authOptions } from "@/lib/auth/options";

process.env.NEXTAUTH_URL ??= "http://localhost:8000";

// next-auth's package exports do not list ./core (the handler its route glue calls); load it by path.
type AuthHandlerAnswer = { status?: number; body?: unknown; cookies?: { name: string; value: string }[]; redirect?: string };
const { AuthHandler } = createRequire(import.meta.url)(path.resolve("node_modules/next-auth/core/index.js")) as {
  AuthHandler: (params: { req: Record<string, unknown>; options: typeof authOptions }) => Promise<AuthHandlerAnswer>;
};

/**
 * Sign-in and sign-out through next-auth's own request handler (CSRF token, credentials callback,
 * JWT cookie, sign-out event), with the app's authOptions. The route file adds only Next's
 * request-scope glue (next/headers), which a test cannot enter; its 429 gate is called directly.
 */
type Cookie = { name: string; value: string };

async function handle(action: "csrf" | "callback" | "signout", request: { method: string; providerId?: string; body?: Record<string, string>; cookies?: Record<string, string>; ip?: string }) {
  return AuthHandler({
    req: {
      action,
      providerId: request.providerId,
      method: request.method,
      body: request.body ?? {},
      query: {},
      cookies: request.cookies ?? {},
      headers: { host: "localhost:8000", "x-forwarded-proto": "http", "x-forwarded-for": request.ip ?? "192.0.2.1" },
    },
    options: authOptions,
  });
}

async function csrf(): Promise<{ token: string; cookie: Cookie }> {
  const answer = await handle("csrf", { method: "GET" });
  const cookie = (answer.cookies as Cookie[]).find((c) => c.name.endsWith("next-auth.csrf-token"))!;
  return { token: (answer.body as { csrfToken: string }).csrfToken, cookie };
}

/** The session cookie header (`name=value`) a browser would keep, or null when sign-in failed. */
export async function signInThroughNextAuth(email: string, password: string, ip?: string): Promise<string | null> {
  const { token, cookie } = await csrf();
  const answer = await handle("callback", {
    method: "POST",
    providerId: "credentials",
    body: { email, password, csrfToken: token, json: "true" },
    cookies: { [cookie.name]: cookie.value },
    ip,
  });
  const session = (answer.cookies as Cookie[] | undefined)?.find((c) => c.name.endsWith("next-auth.session-token") && c.value);
  return session ? `${session.name}=${session.value}` : null;
}

/** Signs out with the session cookie, as the sign-out button does. */
export async function signOutThroughNextAuth(sessionCookieHeader: string): Promise<void> {
  const { token, cookie } = await csrf();
  const [name, value] = sessionCookieHeader.split(/=(.*)/s);
  await handle("signout", { method: "POST", body: { csrfToken: token }, cookies: { [cookie.name]: cookie.value, [name]: value } });
}
