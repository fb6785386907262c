"use client";
import { useActionState } from "react";
import type { ActionState } from "@/app/admin/actions";

/** Moves a user to another team (or none). */
export function TeamPicker({
  action,
  userId,
  teamId,
  teams,
}: {
  action: (state: ActionState | null, formData: FormData) => Promise<ActionState>;
  userId: number;
  teamId: number | null;
  teams: { id: number; name: string }[];
}) {
  const [state, formAction, pending] = useActionState(action, null);
  return (
    <form action={formAction} className="inline-flex items-center gap-2">
      <input type="hidden" name="userId" value={userId} />
      <select name="teamId" defaultValue={teamId ?? "none"} className="rounded border border-slate-300 px-1 py-0.5 text-xs" aria-label="Team">
        <option value="none">(no team)</option>
        {teams.map((team) => <option key={team.id} value={team.id}>{team.name}</option>)}
      </select>
      <button type="submit" disabled={pending} className="rounded border border-slate-300 px-2 py-0.5 text-xs">Move</button>
      {state && <span role="status" className={`text-xs ${state.ok ? "text-emerald-700" : "text-red-700"}`}>{state.message}</span>}
    </form>
  );
}
