"use client";

import { useActionState } from "react";
import { useHydrated } from "@/components/site/local-time";
import { createTeamAction, joinTeamAction, joinTeamByLinkAction, leaveTeamAction, type TeamFormState } from "@/app/team/actions";
import { dangerButton, Field, inputClass, primaryButton, secondaryButton } from "@/components/site/form-parts";

function FormMessage({ state }: { state: TeamFormState }) {
  if (!state.message) return null;
  return (
    <p role="alert" className="text-sm text-red-700">
      {state.message}
    </p>
  );
}

export function CreateTeamForm() {
  const [state, action, pending] = useActionState(createTeamAction, {});
  return (
    <form action={action} className="space-y-3">
      <Field label="Team name" htmlFor="team-name" errors={state.fieldErrors?.name}>
        <input id="team-name" name="name" required maxLength={60} className={inputClass} />
      </Field>
      <FormMessage state={state} />
      <button type="submit" disabled={pending} className={primaryButton}>
        {pending ? "Creating…" : "Create team"}
      </button>
    </form>
  );
}

export function JoinTeamForm() {
  const [state, action, pending] = useActionState(joinTeamAction, {});
  return (
    <form action={action} className="space-y-3">
      <Field label="Invite code" htmlFor="invite-code" errors={state.fieldErrors?.inviteCode} hint="A team-mate finds it on their team page.">
        <input id="invite-code" name="inviteCode" required autoComplete="off" className={`${inputClass} font-mono`} />
      </Field>
      <FormMessage state={state} />
      <button type="submit" disabled={pending} className={secondaryButton}>
        {pending ? "Joining…" : "Join team"}
      </button>
    </form>
  );
}

/** The invite link's one button: the code travels in a hidden field. */
export function JoinByLinkForm({ inviteCode, teamName }: { inviteCode: string; teamName: string }) {
  const [state, action, pending] = useActionState(joinTeamByLinkAction, {});
  return (
    <form action={action} className="space-y-3">
      <input type="hidden" name="inviteCode" value={inviteCode} />
      <FormMessage state={state} />
      {state.fieldErrors?.inviteCode && (
        <p role="alert" className="text-sm text-red-700">
          {state.fieldErrors.inviteCode.join(" ")}
        </p>
      )}
      <button type="submit" disabled={pending} className={primaryButton} data-testid="join-by-link">
        {pending ? "Joining…" : `Join ${teamName}`}
      </button>
    </form>
  );
}

export function LeaveTeamForm({ teamName }: { teamName: string }) {
  const [state, action, pending] = useActionState(leaveTeamAction, {});
  // Disabled until hydrated: submitted before, the form would post without asking.
  const hydrated = useHydrated();
  return (
    <form
      action={action}
      onSubmit={(event) => {
        if (!window.confirm(`Leave "${teamName}"? Its submissions stay with the team.`)) event.preventDefault();
      }}
      className="space-y-2"
    >
      <FormMessage state={state} />
      <button type="submit" disabled={!hydrated || pending} className={dangerButton}>
        {pending ? "Leaving…" : "Leave team"}
      </button>
    </form>
  );
}
