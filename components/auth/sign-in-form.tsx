"use client";

import { signIn } from "next-auth/react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { Field, inputClass, primaryButton } from "@/components/site/form-parts";
import { useHydrated } from "@/components/site/local-time";

export function SignInForm({ returnTo, created }: { returnTo: string; created?: boolean }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  // The form signs in from JavaScript. Submitted before hydration it would be a native GET that puts
  // the password in the URL (history, logs): the button, the form's only way to submit, waits.
  const hydrated = useHydrated();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setPending(true);
    setError(null);
    // A 429 (too many failed sign-ins) has no `url` in its answer, and next-auth's signIn throws on it.
    const answer = await signIn("credentials", { email: String(form.get("email")), password: String(form.get("password")), redirect: false }).catch(() => "limited" as const);
    setPending(false);
    if (answer === "limited") {
      setError("Too many failed sign-ins. Wait a few minutes and try again.");
      return;
    }
    if (!answer || answer.error) {
      setError("Wrong email or password, or the account is disabled.");
      return;
    }
    router.replace(returnTo);
    router.refresh();
  }

  return (
    <form onSubmit={submit} className="space-y-4" noValidate>
      {created && <p className="rounded-md bg-green-50 p-3 text-sm text-green-800">Your account is ready. Sign in.</p>}
      <Field label="Email" htmlFor="email">
        <input id="email" name="email" type="email" autoComplete="email" required className={inputClass} />
      </Field>
      <Field label="Password" htmlFor="password">
        <input id="password" name="password" type="password" autoComplete="current-password" required className={inputClass} />
      </Field>
      {error && (
        <p role="alert" className="text-sm text-red-700">
          {error}
        </p>
      )}
      <button type="submit" disabled={!hydrated || pending} className={primaryButton}>
        {pending ? "Signing in…" : "Sign in"}
      </button>
      <p className="text-sm text-slate-600">
        No account yet?{" "}
        <Link href={`/signup?next=${encodeURIComponent(returnTo)}`} className="text-indigo-700 underline">
          Sign up
        </Link>
      </p>
    </form>
  );
}
