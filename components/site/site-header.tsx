import Link from "next/link";
import type { SessionUser } from "@/lib/auth/session";
import { SignOutButton } from "./sign-out-button";
import type { Theme } from "./theme";
import { ThemeToggle } from "./theme-toggle";

/** The site header: nav for everyone, the account's links when signed in, "Admin" for organisers. */
export function SiteHeader({ user, theme = "system" }: { user: SessionUser | null; theme?: Theme }) {
  const link = "rounded-md px-2 py-1 text-slate-700 hover:bg-slate-100 hover:text-slate-900";
  return (
    <header className="border-b border-slate-200 bg-white">
      <nav aria-label="Main" className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-2 gap-y-1 px-4 py-3 text-sm">
        <Link href="/" className="mr-3 text-base font-bold tracking-tight text-slate-900">
          MLS-GOAT
        </Link>
        <Link href="/tasks" className={link}>
          Tasks
        </Link>
        {user && (
          <>
            <Link href="/team" className={link}>
              Team
            </Link>
            <Link href="/tokens" className={link}>
              Tokens
            </Link>
          </>
        )}
        {user?.role === "ADMIN" && (
          <Link href="/admin" className={`${link} font-semibold text-indigo-700`}>
            Admin
          </Link>
        )}
        <span className="ml-auto flex items-center gap-2">
          <ThemeToggle initial={theme} />
          {user ? (
            <>
              <span className="hidden text-slate-500 sm:inline" data-testid="signed-in-as">
                {user.name}
                {user.team ? ` · ${user.team.name}` : ""}
              </span>
              <SignOutButton />
            </>
          ) : (
            <>
              <Link href="/signin" className={link}>
                Sign in
              </Link>
              <Link href="/signup" className="rounded-md bg-indigo-600 px-3 py-1 font-medium text-white hover:bg-indigo-700">
                Sign up
              </Link>
            </>
          )}
        </span>
      </nav>
    </header>
  );
}
