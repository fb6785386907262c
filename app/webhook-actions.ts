"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { currentUser } from "@/lib/auth/session";
import { ApiError } from "@/lib/errors";
import { addOrganiserWebhook, changeWebhook, organiserWebhookFormSchema, removeTeamWebhook, saveTeamWebhook, webhookFormSchema } from "@/lib/webhooks/settings";

/**
 * The webhook forms of the team page and the admin area. Each parses its form with zod and lets
 * the lib function check the caller (a team member; an organiser); the form shows the state.
 */
export interface WebhookFormState {
  ok?: boolean;
  message?: string;
  fieldErrors?: Record<string, string[]>;
}

async function run(path: string, work: () => Promise<unknown>, done: string): Promise<WebhookFormState> {
  try {
    await work();
  } catch (error) {
    if (error instanceof z.ZodError) return { fieldErrors: z.flattenError(error).fieldErrors as Record<string, string[]> };
    if (error instanceof ApiError) return { message: error.message };
    throw error;
  }
  revalidatePath(path);
  return { ok: true, message: done };
}

export async function saveTeamWebhookAction(_previous: WebhookFormState, form: FormData): Promise<WebhookFormState> {
  const user = await currentUser();
  return run("/team", () => saveTeamWebhook(user, webhookFormSchema.parse({ url: form.get("url"), kind: form.get("kind") })), "Saved.");
}

export async function removeTeamWebhookAction(_previous: WebhookFormState, _form: FormData): Promise<WebhookFormState> {
  const user = await currentUser();
  return run("/team", () => removeTeamWebhook(user), "Removed.");
}

export async function addOrganiserWebhookAction(_previous: WebhookFormState, form: FormData): Promise<WebhookFormState> {
  const user = await currentUser();
  return run(
    "/admin/webhooks",
    () => addOrganiserWebhook(user, organiserWebhookFormSchema.parse({ url: form.get("url"), kind: form.get("kind"), events: form.getAll("events") })),
    "Added.",
  );
}

const changeForm = z.object({ webhookId: z.coerce.number().int().positive(), change: z.enum(["enable", "disable", "delete"]) });

export async function changeWebhookAction(_previous: WebhookFormState, form: FormData): Promise<WebhookFormState> {
  const user = await currentUser();
  return run(
    "/admin/webhooks",
    async () => {
      const { webhookId, change } = changeForm.parse({ webhookId: form.get("webhookId"), change: form.get("change") });
      await changeWebhook(user, webhookId, change);
    },
    "Done.",
  );
}
