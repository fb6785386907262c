import type { ReactNode } from "react";
import "./globals.css";
import { inter } from "./fonts";

export const metadata = { title: "MLS-GOAT", description: "Leaderboards for machine-learning hackathons" };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en" className={inter.variable}>
      <body className="min-h-screen bg-slate-50 font-sans text-slate-900 antialiased">{children}</body>
    </html>
  );
}
