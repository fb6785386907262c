"use server";

import { headers } from "next/headers";
import { clientIp } from "@/lib/http/client-ip";
import { signUpParticipant, type SignUpResult } from "@/lib/accounts/sign-up";

/** Creates a participant account; the form then signs in with the same email and password. */
export async function signUpAction(_previous: SignUpResult | null, form: FormData): Promise<SignUpResult> {
  return signUpParticipant({
    name: form.get("name"),
    email: form.get("email"),
    password: form.get("password"),
    confirmPassword: form.get("confirmPassword"),
  }, clientIp({ headers: await headers() }));
}
