"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { createApiTokenForUser, revokeApiTokenOfUser } from "@/lib/auth/api-token-list";
import { currentUser } from "@/lib/auth/session";
import { ApiError } from "@/lib/errors";

export interface TokenFormState {
  /** the new token's secret: in this answer only, never stored */
  created?: { name: string; token: string };
  message?: string;
  fieldErrors?: Record<string, string[]>;
}

function failure(error: unknown): TokenFormState {
  if (error instanceof z.ZodError) return { fieldErrors: { name: error.issues.map((issue) => issue.message) } };
  if (error instanceof ApiError) return { message: error.message };
  throw error;
}

export async function createTokenAction(_previous: TokenFormState, form: FormData): Promise<TokenFormState> {
  const user = await currentUser();
  if (!user) return { message: "Your session ended; sign in again." };
  try {
    const token = await createApiTokenForUser(user, String(form.get("name") ?? ""));
    revalidatePath("/tokens");
    return { created: { name: token.name, token: token.token } };
  } catch (error) {
    return failure(error);
  }
}

export async function revokeTokenAction(_previous: TokenFormState, form: FormData): Promise<TokenFormState> {
  const user = await currentUser();
  if (!user) return { message: "Your session ended; sign in again." };
  try {
    await revokeApiTokenOfUser(user, Number(form.get("tokenId")));
    revalidatePath("/tokens");
    return {};
  } catch (error) {
    return failure(error);
  }
}
