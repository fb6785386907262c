import type { ReactNode } from "react";
import "./globals.css";
import { SiteHeader } from "@/components/site/site-header";
import { currentUser } from "@/lib/auth/session";
import { inter } from "./fonts";

export const metadata = { title: "MLS-GOAT", description: "Leaderboards for machine-learning hackathons" };

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
