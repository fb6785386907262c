"use client";
import { useActionState, useEffect } from "react";
import type { ActionState } from "@/app/admin/actions";
import { useHydrated } from "@/components/site/local-time";

/** Fired after an action succeeds, so live views (the dashboard) re-read at once instead of at their next poll. */
export const ADMIN_ACTION_DONE_EVENT = "goat:admin-action-done";

/** A one-button form posting to an admin server action; shows the action's answer beside it. */
export function ActionButton({
  action,
  fields,
  label,
  confirm,
  tone = "default",
}: {
  action: (state: ActionState | null, formData: FormData) => Promise<ActionState>;
  fields: Record<string, string>;
  label: string;
  confirm?: string;
  tone?: "default" | "danger";
}) {
  const [state, formAction, pending] = useActionState(action, null);
  // A form asking first is disabled until hydrated: submitted before, it would post without asking.
  const hydrated = useHydrated();
  useEffect(() => {
    if (state?.ok) window.dispatchEvent(new Event(ADMIN_ACTION_DONE_EVENT));
  }, [state]);
  return (
    <form
      action={formAction}
      className="inline-flex items-center gap-2"
      onSubmit={(event) => {
        if (confirm && !window.confirm(confirm)) event.preventDefault();
      }}
    >
      {Object.entries(fields).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <button
        type="submit"
        disabled={pending || (confirm !== undefined && !hydrated)}
        className={`rounded border bg-white px-2 py-0.5 text-xs font-medium disabled:opacity-50 ${tone === "danger" ? "border-red-300 text-red-700 hover:bg-red-50" : "border-slate-300 text-slate-700 hover:bg-slate-100"}`}
      >
        {pending ? "…" : label}
      </button>
      {state && <span role="status" className={`text-xs ${state.ok ? "text-emerald-700" : "text-red-700"}`}>{state.message}</span>}
    </form>
  );
}
