"use client";
import { useActionState } from "react";
import type { ActionState } from "@/app/admin/actions";
import { inputClass, secondaryButton } from "@/components/site/form-parts";

/** The event-wide maximum team size (lib/teams/event-settings.ts): empty for no limit. */
export function MaxTeamSizeForm({ action, current }: { action: (state: ActionState | null, formData: FormData) => Promise<ActionState>; current: number | null }) {
  const [state, formAction, pending] = useActionState(action, null);
  const error = state?.fieldErrors?.maxTeamSize;
  return (
    <form action={formAction} className="flex flex-wrap items-end gap-3" aria-label="Maximum team size">
      <div>
        <label htmlFor="max-team-size" className="block text-sm font-medium">
          Maximum team size
        </label>
        <input
          id="max-team-size"
          name="maxTeamSize"
          type="number"
          min={1}
          max={1000}
          defaultValue={current ?? ""}
          placeholder="no limit"
          className={`${inputClass} w-32`}
          aria-describedby="max-team-size-hint"
          aria-invalid={error ? true : undefined}
        />
      </div>
      <button type="submit" disabled={pending} className={secondaryButton}>
        {pending ? "Saving…" : "Save"}
      </button>
      <p id="max-team-size-hint" className="w-full text-xs text-slate-600">
        Joins that would pass it are refused; a team already larger keeps its members. Empty: no limit. Moving people here is not limited.
      </p>
      {state && (
        <p role="status" className={`w-full text-sm ${state.ok ? "text-emerald-700" : "text-red-700"}`} data-testid="max-team-size-status">
          {error ? error.join(" ") : state.message}
        </p>
      )}
    </form>
  );
}
