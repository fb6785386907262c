import Link from "next/link";
import type { ViewerUser } from "@/lib/leaderboard/viewer";
import { SignOutButton } from "./sign-out-button";

/** The header's parts that depend on who is signed in; rendered by the server, or in the browser on a kept page (deferred-account.tsx). */
export const navLink = "rounded-md px-2 py-1 text-slate-700 hover:bg-slate-100 hover:text-slate-900";

/** The account's links beside "Tasks": Team and Tokens when signed in, Admin for organisers. */
export function MemberLinks({ user }: { user: ViewerUser | null }) {
  return (
    <>
      {user && (
        <>
          <Link href="/team" className={navLink}>
            Team
          </Link>
          <Link href="/tokens" className={navLink}>
            Tokens
          </Link>
        </>
      )}
      {user?.role === "ADMIN" && (
        <Link href="/admin" className={`${navLink} font-semibold text-indigo-700`}>
          Admin
        </Link>
      )}
    </>
  );
}

/** Who is signed in and the sign-out button, or the sign-in and sign-up links. */
export function AccountLinks({ user }: { user: ViewerUser | null }) {
  return user ? (
    <>
      <span className="hidden text-slate-500 sm:inline" data-testid="signed-in-as">
        {user.name}
        {user.team ? ` · ${user.team.name}` : ""}
      </span>
      <SignOutButton />
    </>
  ) : (
    <>
      <Link href="/signin" className={navLink}>
        Sign in
      </Link>
      <Link href="/signup" className="rounded-md bg-indigo-600 px-3 py-1 font-medium text-white hover:bg-indigo-700">
        Sign up
      </Link>
    </>
  );
}
