import { cookies } from "next/headers";
import type { ReactNode } from "react";
import "./globals.css";
import { SiteHeader } from "@/components/site/site-header";
import { parseTheme, THEME_COOKIE, themeClass } from "@/components/site/theme";
import { currentUser } from "@/lib/auth/session";
import { inter } from "./fonts";

// Each page names itself (and its task); the site's name follows. The favicon is app/icon.svg.
export const metadata = { title: { default: "MLS-GOAT", template: "%s · MLS-GOAT" }, description: "Leaderboards for machine-learning hackathons" };

export default async function RootLayout({ children }: { children: ReactNode }) {
  const [user, cookieStore] = await Promise.all([currentUser(), cookies()]);
  const theme = parseTheme(cookieStore.get(THEME_COOKIE)?.value);
  return (
    <html lang="en" className={`${inter.variable} ${themeClass(theme)}`.trim()}>
      <body className="min-h-screen bg-slate-50 font-sans text-slate-900 antialiased">
        <SiteHeader user={user} theme={theme} />
        <main className="mx-auto max-w-6xl px-4 py-6 sm:py-8">{children}</main>
      </body>
    </html>
  );
}
