"use client";

import { useActionState } from "react";
import {
  addOrganiserWebhookAction,
  changeWebhookAction,
  removeTeamWebhookAction,
  saveTeamWebhookAction,
  type WebhookFormState,
} from "@/app/webhook-actions";
import { dangerButton, Field, inputClass, primaryButton, secondaryButton } from "@/components/site/form-parts";

const KINDS = [
  { value: "SLACK", label: "Slack (incoming webhook)" },
  { value: "DISCORD", label: "Discord (channel webhook)" },
  { value: "GENERIC", label: "Generic JSON, signed (HMAC-SHA256)" },
];

function FormMessage({ state }: { state: WebhookFormState }) {
  if (!state.message) return null;
  return (
    <p role={state.ok ? "status" : "alert"} className={`text-sm ${state.ok ? "text-emerald-700" : "text-red-700"}`}>
      {state.message}
    </p>
  );
}

function UrlAndKind({ state, url, kind }: { state: WebhookFormState; url?: string; kind?: string }) {
  return (
    <>
      <Field label="Receiver URL" htmlFor="webhook-url" errors={state.fieldErrors?.url} hint="http(s) only; addresses on private networks are refused unless the organisers allow them.">
        <input id="webhook-url" name="url" type="url" required defaultValue={url} placeholder="https://hooks.slack.com/services/..." className={inputClass} />
      </Field>
      <Field label="Kind" htmlFor="webhook-kind" errors={state.fieldErrors?.kind}>
        <select id="webhook-kind" name="kind" defaultValue={kind ?? "SLACK"} className={inputClass}>
          {KINDS.map((each) => (
            <option key={each.value} value={each.value}>
              {each.label}
            </option>
          ))}
        </select>
      </Field>
    </>
  );
}

export function TeamWebhookForm({ url, kind }: { url?: string; kind?: string }) {
  const [state, action, pending] = useActionState(saveTeamWebhookAction, {});
  return (
    <form action={action} className="space-y-3" data-testid="team-webhook-form">
      <UrlAndKind state={state} url={url} kind={kind} />
      <FormMessage state={state} />
      <button type="submit" disabled={pending} className={primaryButton}>
        {pending ? "Saving…" : "Save webhook"}
      </button>
    </form>
  );
}

export function RemoveTeamWebhookForm() {
  const [state, action, pending] = useActionState(removeTeamWebhookAction, {});
  return (
    <form action={action} className="space-y-2">
      <FormMessage state={state} />
      <button type="submit" disabled={pending} className={dangerButton}>
        Remove webhook
      </button>
    </form>
  );
}

export function OrganiserWebhookForm({ events }: { events: readonly string[] }) {
  const [state, action, pending] = useActionState(addOrganiserWebhookAction, {});
  return (
    <form action={action} className="space-y-3" data-testid="organiser-webhook-form">
      <UrlAndKind state={state} />
      <fieldset className="space-y-1">
        <legend className="text-sm font-medium text-slate-800">Events</legend>
        {events.map((event) => (
          <label key={event} className="flex items-center gap-2 text-sm">
            <input type="checkbox" name="events" value={event} defaultChecked /> <code>{event}</code>
          </label>
        ))}
        {state.fieldErrors?.events?.map((error) => (
          <p key={error} className="text-sm text-red-700" role="alert">
            {error}
          </p>
        ))}
      </fieldset>
      <FormMessage state={state} />
      <button type="submit" disabled={pending} className={primaryButton}>
        {pending ? "Adding…" : "Add webhook"}
      </button>
    </form>
  );
}

export function ChangeWebhookButton({ webhookId, change, label }: { webhookId: number; change: "enable" | "disable" | "delete"; label: string }) {
  const [state, action, pending] = useActionState(changeWebhookAction, {});
  return (
    <form action={action} className="inline">
      <input type="hidden" name="webhookId" value={webhookId} />
      <input type="hidden" name="change" value={change} />
      <button type="submit" disabled={pending} className={change === "delete" ? dangerButton : secondaryButton}>
        {label}
      </button>
      {!state.ok && state.message && <span className="ml-2 text-sm text-red-700">{state.message}</span>}
    </form>
  );
}
