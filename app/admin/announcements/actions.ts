"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import type { ActionState } from "@/app/admin/actions";
import { postAnnouncement, withdrawAnnouncement } from "@/lib/tasks/announcements";
import { currentUser } from "@/lib/auth/session";
import { ApiError } from "@/lib/errors";

/** Post and withdraw announcements; lib/tasks/announcements.ts checks that the caller is an organiser. */
async function answer(work: () => Promise<string>): Promise<ActionState> {
  try {
    const message = await work();
    revalidatePath("/admin/announcements");
    return { ok: true, message };
  } catch (error) {
    if (error instanceof z.ZodError) return { ok: false, message: "The announcement is not valid.", fieldErrors: z.flattenError(error).fieldErrors as Record<string, string[]> };
    if (error instanceof ApiError) return { ok: false, message: error.message };
    throw error;
  }
}

export async function postAnnouncementAction(_state: ActionState | null, form: FormData): Promise<ActionState> {
  return answer(async () => {
    const posted = await postAnnouncement(await currentUser(), { body: String(form.get("body") ?? ""), task: String(form.get("task") ?? "") });
    return posted.task ? `Posted on ${posted.task}'s pages.` : "Posted on every task's pages.";
  });
}

export async function withdrawAnnouncementAction(_state: ActionState | null, form: FormData): Promise<ActionState> {
  return answer(async () => {
    await withdrawAnnouncement(await currentUser(), Number(form.get("announcementId")));
    return "Withdrawn.";
  });
}
