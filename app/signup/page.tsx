import { redirect } from "next/navigation";
import { safeReturnPath } from "@/components/auth/return-path";
import { SignUpForm } from "@/components/auth/sign-up-form";
import { Card } from "@/components/site/form-parts";
import { currentUser } from "@/lib/auth/session";

export const metadata = { title: "Sign up" };

export default async function SignUpPage({ searchParams }: { searchParams: Promise<{ next?: string }> }) {
  const returnTo = safeReturnPath((await searchParams).next);
  if (await currentUser()) redirect(returnTo);
  return (
    <div className="mx-auto max-w-md space-y-4">
      <h1 className="text-2xl font-semibold">Create an account</h1>
      <p className="text-sm text-slate-600">Then create a team, or join your team-mates&apos; with their invite code.</p>
      <Card>
        <SignUpForm returnTo={returnTo} />
      </Card>
    </div>
  );
}
