import type { ReactNode } from "react";
import "./globals.css";
import { SiteHeader } from "@/components/site/site-header";
import { currentUser } from "@/lib/auth/session";
import { inter } from "./fonts";

// Each page names itself (and its task); the site's name follows. The favicon is app/icon.svg.
export const metadata = { title: { default: "MLS-GOAT", template: "%s · MLS-GOAT" }, description: "Leaderboards for machine-learning hackathons" };

export default async function RootLayout({ children }: { children: ReactNode }) {
  const user = await currentUser();
  return (
    <html lang="en" className={inter.variable}>
      <body className="min-h-screen bg-slate-50 font-sans text-slate-900 antialiased">
        <SiteHeader user={user} />
        <main className="mx-auto max-w-6xl px-4 py-6 sm:py-8">{children}</main>
      </body>
    </html>
  );
}
