"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { currentUser } from "@/lib/auth/session";
import { ApiError } from "@/lib/errors";
import { createTeamForUser, joinTeamWithInviteCode, leaveTeam } from "@/lib/teams/membership";

/** Form state of the team page's forms: field errors or one message, as next-learn's actions return. */
export interface TeamFormState {
  ok?: boolean;
  message?: string;
  fieldErrors?: Record<string, string[]>;
}

async function runTeamAction(field: string, work: (user: NonNullable<Awaited<ReturnType<typeof currentUser>>>) => Promise<unknown>): Promise<TeamFormState> {
  const user = await currentUser();
  if (!user) return { message: "Your session ended; sign in again." };
  try {
    await work(user);
  } catch (error) {
    if (error instanceof z.ZodError) return { fieldErrors: { [field]: error.issues.map((issue) => issue.message) } };
    if (error instanceof ApiError) return { message: error.message };
    throw error;
  }
  revalidatePath("/", "layout");
  return { ok: true };
}

export async function createTeamAction(_previous: TeamFormState, form: FormData): Promise<TeamFormState> {
  return runTeamAction("name", (user) => createTeamForUser(user, String(form.get("name") ?? "")));
}

export async function joinTeamAction(_previous: TeamFormState, form: FormData): Promise<TeamFormState> {
  return runTeamAction("inviteCode", (user) => joinTeamWithInviteCode(user, String(form.get("inviteCode") ?? "")));
}

/** The invite link's confirmation: joins, then shows the team page. */
export async function joinTeamByLinkAction(previous: TeamFormState, form: FormData): Promise<TeamFormState> {
  const state = await joinTeamAction(previous, form);
  if (state.ok) redirect("/team");
  return state;
}

export async function leaveTeamAction(_previous: TeamFormState, _form: FormData): Promise<TeamFormState> {
  return runTeamAction("team", (user) => leaveTeam(user));
}
