"use client";

import { useActionState, useRef } from "react";
import { postAnnouncementAction } from "@/app/admin/announcements/actions";
import { Field, inputClass, primaryButton } from "@/components/site/form-parts";

/** Post an announcement; the text stays in the field when it is refused, and clears once posted. */
export function AnnouncementForm({ tasks, maxLength }: { tasks: { slug: string; title: string }[]; maxLength: number }) {
  const form = useRef<HTMLFormElement>(null);
  const [state, action, pending] = useActionState(async (previous: Awaited<ReturnType<typeof postAnnouncementAction>> | null, data: FormData) => {
    const result = await postAnnouncementAction(previous, data);
    if (result.ok) form.current?.reset();
    return result;
  }, null);
  return (
    <form ref={form} action={action} className="space-y-3" data-testid="announcement-form">
      <Field label="Where" htmlFor="announcement-task">
        <select id="announcement-task" name="task" className={inputClass} defaultValue="">
          <option value="">Every task (event-wide)</option>
          {tasks.map((task) => (
            <option key={task.slug} value={task.slug}>
              {task.title} ({task.slug})
            </option>
          ))}
        </select>
      </Field>
      <Field label="Announcement" htmlFor="announcement-body" errors={state?.fieldErrors?.body} hint={`Up to ${maxLength} characters; shown on the task pages at once.`}>
        <textarea id="announcement-body" name="body" required maxLength={maxLength} rows={3} className={inputClass} />
      </Field>
      <div className="flex items-center gap-3">
        <button type="submit" disabled={pending} className={primaryButton}>
          {pending ? "Posting…" : "Post announcement"}
        </button>
        {state && (
          <span role="status" className={`text-sm ${state.ok ? "text-green-700" : "text-red-700"}`} data-testid="announcement-form-status">
            {state.message}
          </span>
        )}
      </div>
    </form>
  );
}
