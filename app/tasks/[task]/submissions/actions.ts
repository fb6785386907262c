"use server";

import { revalidatePath } from "next/cache";
import { currentUser } from "@/lib/auth/session";
import { ApiError } from "@/lib/errors";
import { updateSubmissionLabels } from "@/lib/submissions/labels";

/** Form state of the submission label form: one message per field, or a general one. */
export interface SubmissionLabelsFormState {
  ok?: boolean;
  message?: string;
  fieldErrors?: Record<string, string[]>;
}

export async function updateSubmissionLabelsAction(_previous: SubmissionLabelsFormState, form: FormData): Promise<SubmissionLabelsFormState> {
  const user = await currentUser();
  if (!user) return { message: "Your session ended; sign in again." };
  const taskSlug = String(form.get("task") ?? "");
  const submissionId = Number(form.get("submissionId"));
  try {
    await updateSubmissionLabels({ teamId: user.team?.id ?? null }, taskSlug, submissionId, {
      name: String(form.get("name") ?? ""),
      description: String(form.get("description") ?? ""),
    });
  } catch (error) {
    if (error instanceof ApiError) {
      const fields = (error.details.fields ?? []) as { path: string; message: string }[];
      if (fields.length) return { fieldErrors: Object.fromEntries(fields.map((field) => [field.path, [field.message]])) };
      return { message: error.message };
    }
    throw error;
  }
  revalidatePath(`/tasks/${taskSlug}/submissions`, "layout");
  return { ok: true };
}
