import { redirect } from "next/navigation";
import { safeReturnPath } from "@/components/auth/return-path";
import { SignInForm } from "@/components/auth/sign-in-form";
import { Card } from "@/components/site/form-parts";
import { currentUser } from "@/lib/auth/session";

export const metadata = { title: "Sign in" };

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ next?: string; created?: string }> }) {
  const { next, created } = await searchParams;
  const returnTo = safeReturnPath(next);
  if (await currentUser()) redirect(returnTo);
  return (
    <div className="mx-auto max-w-md space-y-4">
      <h1 className="text-2xl font-semibold">Sign in</h1>
      <Card>
        <SignInForm returnTo={returnTo} created={created === "1"} />
      </Card>
    </div>
  );
}
