import type { ReactNode } from "react";

export const metadata = { title: "MLS-GOAT", description: "Leaderboards for machine-learning hackathons" };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: "system-ui, sans-serif", margin: "2rem auto", maxWidth: 760, padding: "0 1rem", lineHeight: 1.5 }}>
        {children}
      </body>
    </html>
  );
}
