"use client";

import { signIn } from "next-auth/react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useActionState, useEffect, useState } from "react";
import { signUpAction } from "@/app/signup/actions";
import { Field, inputClass, primaryButton } from "@/components/site/form-parts";
import type { SignUpResult } from "@/lib/accounts/sign-up";

export function SignUpForm({ returnTo }: { returnTo: string }) {
  const router = useRouter();
  const [state, action, pending] = useActionState<SignUpResult | null, FormData>(signUpAction, null);
  // React resets a form after its action runs, so keep what was typed for the sign-in that follows.
  const [typed, setTyped] = useState({ name: "", email: "", password: "" });
  const errors = state && !state.ok ? state.fieldErrors : {};

  useEffect(() => {
    if (!state?.ok) return;
    // The account exists: sign in with what was just typed, then go where the visitor was headed.
    void signIn("credentials", { email: state.email, password: typed.password, redirect: false }).then((answer) => {
      if (answer?.ok && !answer.error) {
        router.replace(returnTo === "/tasks" ? "/team" : returnTo);
        router.refresh();
      } else {
        router.replace(`/signin?created=1&next=${encodeURIComponent(returnTo)}`);
      }
    });
  }, [state, returnTo, router, typed.password]);

  return (
    <form
      action={action}
      onSubmit={(event) => {
        const form = new FormData(event.currentTarget);
        setTyped({ name: String(form.get("name") ?? ""), email: String(form.get("email") ?? ""), password: String(form.get("password") ?? "") });
      }}
      className="space-y-4"
      noValidate
    >
      <Field label="Name" htmlFor="name" errors={errors.name}>
        <input id="name" name="name" autoComplete="name" required defaultValue={typed.name} key={`name-${String(pending)}`} className={inputClass} />
      </Field>
      <Field label="Email" htmlFor="email" errors={errors.email}>
        <input id="email" name="email" type="email" autoComplete="email" required defaultValue={typed.email} key={`email-${String(pending)}`} className={inputClass} />
      </Field>
      <Field label="Password" htmlFor="password" errors={errors.password} hint="At least 8 characters.">
        <input id="password" name="password" type="password" autoComplete="new-password" required className={inputClass} />
      </Field>
      <Field label="Repeat the password" htmlFor="confirmPassword" errors={errors.confirmPassword}>
        <input id="confirmPassword" name="confirmPassword" type="password" autoComplete="new-password" required className={inputClass} />
      </Field>
      {state && !state.ok && state.message && (
        <p role="alert" className="text-sm text-red-700">
          {state.message}
        </p>
      )}
      <button type="submit" disabled={pending || state?.ok} className={primaryButton}>
        {pending || state?.ok ? "Creating your account…" : "Sign up"}
      </button>
      <p className="text-sm text-slate-600">
        Have an account?{" "}
        <Link href={`/signin?next=${encodeURIComponent(returnTo)}`} className="text-indigo-700 underline">
          Sign in
        </Link>
      </p>
    </form>
  );
}
