import { cookies, headers } from "next/headers";
import type { ReactNode } from "react";
import "./globals.css";
import { SiteHeader } from "@/components/site/site-header";
import { parseTheme, THEME_COOKIE, themeClass } from "@/components/site/theme";
import { currentUser } from "@/lib/auth/session";
import { keptPageAudience, PAGE_RENDER_HEADER } from "@/lib/leaderboard/page-html-cache";
import { inter } from "./fonts";

// Each page names itself (and its task); the site's name follows. The favicon is app/icon.svg.
export const metadata = { title: { default: "MLS-GOAT", template: "%s · MLS-GOAT" }, description: "Leaderboards for machine-learning hackathons" };

export default async function RootLayout({ children }: { children: ReactNode }) {
  // A leaderboard page kept for every reader (lib/leaderboard/page-html-cache.ts) is rendered for no
  // one: its signed-in variant leaves the header's account links to the browser.
  const audience = keptPageAudience((await headers()).get(PAGE_RENDER_HEADER));
  const [user, cookieStore] = await Promise.all([audience === null ? currentUser() : null, cookies()]);
  const theme = parseTheme(cookieStore.get(THEME_COOKIE)?.value);
  return (
    <html lang="en" className={`${inter.variable} ${themeClass(theme)}`.trim()}>
      <body className="min-h-screen bg-slate-50 font-sans text-slate-900 antialiased">
        <SiteHeader user={audience === "member" ? "deferred" : user} theme={theme} />
        <main className="mx-auto max-w-6xl px-4 py-6 sm:py-8">{children}</main>
      </body>
    </html>
  );
}
