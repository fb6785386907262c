"use client";

import { useActionState } from "react";
import { updateSubmissionLabelsAction } from "@/app/tasks/[task]/submissions/actions";
import { Field, inputClass, primaryButton } from "@/components/site/form-parts";

/** The team renames or re-describes a submission; the values stay in the fields after saving. */
export function SubmissionLabelsForm({ taskSlug, submissionId, name, description }: { taskSlug: string; submissionId: number; name: string | null; description: string | null }) {
  const [state, action, pending] = useActionState(updateSubmissionLabelsAction, {});
  return (
    <form action={action} className="space-y-3" data-testid="submission-labels-form">
      <input type="hidden" name="task" value={taskSlug} />
      <input type="hidden" name="submissionId" value={submissionId} />
      <Field label="Name" htmlFor="submission-name" errors={state.fieldErrors?.name} hint="Up to 100 characters, e.g. “MLP 512x2, dropout 0.2”.">
        <input id="submission-name" name="name" defaultValue={name ?? ""} maxLength={100} className={inputClass} />
      </Field>
      <Field label="Description" htmlFor="submission-description" errors={state.fieldErrors?.description} hint="Up to 1000 characters: what you changed, what you expect.">
        <textarea id="submission-description" name="description" defaultValue={description ?? ""} maxLength={1000} rows={3} className={inputClass} />
      </Field>
      {state.message && (
        <p role="alert" className="text-sm text-red-700">
          {state.message}
        </p>
      )}
      <div className="flex items-center gap-3">
        <button type="submit" disabled={pending} className={primaryButton}>
          {pending ? "Saving…" : "Save"}
        </button>
        {state.ok && !pending && (
          <span role="status" className="text-sm text-green-700" data-testid="labels-saved">
            Saved.
          </span>
        )}
      </div>
    </form>
  );
}
