// GET/POST /api/auth/* - next-auth (sign in with email and password, sign out, session)
import NextAuth from "next-auth";
import type { NextRequest } from "next/server";
import { authOptions } from "@/lib/auth/options";
import { assertSignInAllowed } from "@/lib/auth/sign-in";
import { clientIp } from "@/lib/http/client-ip";
import { errorResponse } from "@/lib/errors";

type Context = { params: Promise<{ nextauth: string[] }> };

const handler = NextAuth(authOptions);

export async function GET(request: NextRequest, context: Context): Promise<Response> {
  return handler(request, context);
}

// A sign-in from an address or for an account with too many failed attempts is answered 429
// (with Retry-After) here, before next-auth checks a password.
export async function POST(request: NextRequest, context: Context): Promise<Response> {
  const { nextauth } = await context.params;
  if (nextauth[0] === "callback" && nextauth[1] === "credentials") {
    const form = await request.clone().formData().catch(() => null);
    try {
      await assertSignInAllowed(String(form?.get("email") ?? ""), clientIp(request));
    } catch (error) {
      return errorResponse(error);
    }
  }
  return handler(request, context);
}
