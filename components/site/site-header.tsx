import Link from "next/link";
import type { ViewerUser } from "@/lib/leaderboard/viewer";
import { AccountLinks, MemberLinks, navLink } from "./account-links";
import { DeferredAccount } from "./deferred-account";
import type { Theme } from "./theme";
import { ThemeToggle } from "./theme-toggle";

/**
 * The site header: nav for everyone, the account's links when signed in, "Admin" for organisers.
 * `user` "deferred": a page kept for every signed-in reader (lib/leaderboard/page-html-cache.ts),
 * whose account links the browser fills in (deferred-account.tsx).
 */
export function SiteHeader({ user, theme = "system" }: { user: ViewerUser | null | "deferred"; theme?: Theme }) {
  return (
    <header className="border-b border-slate-200 bg-white">
      <nav aria-label="Main" className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-2 gap-y-1 px-4 py-3 text-sm">
        <Link href="/" className="mr-3 text-base font-bold tracking-tight text-slate-900">
          MLS-GOAT
        </Link>
        <Link href="/tasks" className={navLink}>
          Tasks
        </Link>
        {user === "deferred" ? <DeferredAccount part="links" /> : <MemberLinks user={user} />}
        <span className="ml-auto flex items-center gap-2">
          <ThemeToggle initial={theme} />
          {user === "deferred" ? <DeferredAccount part="account" /> : <AccountLinks user={user} />}
        </span>
      </nav>
    </header>
  );
}
