import "server-only";
import { z } from "zod";
import { createUser } from "./users";
import { ApiError } from "../errors";
import { consumeLimit } from "../http/rate-limits";
import { emailSchema, passwordSchema, personNameSchema } from "../schemas/accounts";

/**
 * Self-service sign-up. Everyone who signs up is a participant; organisers are made with the
 * admin CLI (`npm run admin -- user create --admin`), never through a public form.
 */
export const signUpSchema = z
  .object({
    name: personNameSchema,
    email: emailSchema,
    password: passwordSchema,
    confirmPassword: z.string(),
  })
  .refine((input) => input.password === input.confirmPassword, { path: ["confirmPassword"], message: "the passwords differ" });

export type SignUpResult = { ok: true; email: string } | { ok: false; fieldErrors: Record<string, string[]>; message?: string };

/** `ip`: the caller's address; every attempt from it counts against the sign-up limit. */
export async function signUpParticipant(input: unknown, ip: string): Promise<SignUpResult> {
  try {
    await consumeLimit("signUpsPerIp", ip);
  } catch (error) {
    if (error instanceof ApiError) return { ok: false, fieldErrors: {}, message: error.message };
    throw error;
  }
  const parsed = signUpSchema.safeParse(input);
  if (!parsed.success) return { ok: false, fieldErrors: z.flattenError(parsed.error).fieldErrors as Record<string, string[]> };
  try {
    const user = await createUser({ email: parsed.data.email, name: parsed.data.name, password: parsed.data.password, role: "PARTICIPANT" });
    return { ok: true, email: user.email };
  } catch (error) {
    if (error instanceof ApiError && error.code === "CONFLICT") {
      return { ok: false, fieldErrors: { email: ["an account with this email exists; sign in instead"] } };
    }
    throw error;
  }
}
