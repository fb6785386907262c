"use client";

import { useActionState } from "react";
import { useHydrated } from "@/components/site/local-time";
import { createTokenAction, revokeTokenAction } from "@/app/tokens/actions";
import { CopyButton } from "@/components/site/copy-button";
import { dangerButton, Field, inputClass, primaryButton } from "@/components/site/form-parts";
import { CurlCommands } from "@/components/tasks/curl-commands";

/** `example`: where and for which task the new token's ready-to-paste curl lines point. */
export function CreateTokenForm({ example }: { example?: { baseUrl: string; taskSlug: string } }) {
  const [state, action, pending] = useActionState(createTokenAction, {});
  return (
    <div className="space-y-4">
      <form action={action} className="flex flex-col gap-3 sm:flex-row sm:items-end">
        <div className="flex-1">
          <Field label="Token name" htmlFor="token-name" errors={state.fieldErrors?.name}>
            <input id="token-name" name="name" placeholder="laptop" required maxLength={60} className={inputClass} />
          </Field>
        </div>
        <button type="submit" disabled={pending} className={primaryButton}>
          {pending ? "Creating…" : "Create token"}
        </button>
      </form>
      {state.message && (
        <p role="alert" className="text-sm text-red-700">
          {state.message}
        </p>
      )}
      {state.created && (
        <div className="space-y-2 rounded-md border border-amber-300 bg-amber-50 p-3" role="status">
          <p className="text-sm font-medium text-amber-900">
            Token &quot;{state.created.name}&quot; created. Copy it now: it is shown only this once.
          </p>
          <div className="flex flex-wrap items-center gap-2">
            <code className="block min-w-0 flex-1 break-all rounded bg-white px-2 py-1 font-mono text-sm" data-testid="new-token">
              {state.created.token}
            </code>
            <CopyButton text={state.created.token} label="Copy token" testId="copy-new-token" />
          </div>
          {example && (
            <>
              <p className="text-sm text-amber-900">Ready to paste, with this token:</p>
              <CurlCommands baseUrl={example.baseUrl} taskSlug={example.taskSlug} tokenHint={state.created.token} testId="curl-new-token" />
            </>
          )}
        </div>
      )}
    </div>
  );
}

export function RevokeTokenButton({ tokenId, name }: { tokenId: number; name: string }) {
  const [state, action, pending] = useActionState(revokeTokenAction, {});
  // Disabled until hydrated: submitted before, the form would post without asking.
  const hydrated = useHydrated();
  return (
    <form
      action={action}
      onSubmit={(event) => {
        if (!window.confirm(`Revoke the token "${name}"? Scripts using it stop working at once.`)) event.preventDefault();
      }}
    >
      <input type="hidden" name="tokenId" value={tokenId} />
      <button type="submit" disabled={!hydrated || pending} className={dangerButton} aria-label={`Revoke ${name}`}>
        {pending ? "Revoking…" : "Revoke"}
      </button>
      {state.message && <span className="ml-2 text-xs text-red-700">{state.message}</span>}
    </form>
  );
}
