import { redirect } from "next/navigation";
import { safeReturnPath } from "@/components/auth/return-path";
import { SignInForm } from "@/components/auth/sign-in-form";
import { Card } from "@/components/site/form-parts";
import { currentUser, endedSessionReason } from "@/lib/auth/session";

export const metadata = { title: "Sign in" };

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ next?: string; created?: string }> }) {
  const { next, created } = await searchParams;
  const returnTo = safeReturnPath(next);
  if (await currentUser()) redirect(returnTo);
  // A disabled account's pages send it here (its session no longer counts): say why.
  const ended = await endedSessionReason();
  return (
    <div className="mx-auto max-w-md space-y-4">
      <h1 className="text-2xl font-semibold">Sign in</h1>
      {ended === "disabled" && (
        <p role="alert" className="rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-800" data-testid="account-disabled">
          Your account was disabled by the organisers, so you were signed out. If you think this is a mistake, ask them to enable it again.
        </p>
      )}
      <Card>
        <SignInForm returnTo={returnTo} created={created === "1"} />
      </Card>
    </div>
  );
}
