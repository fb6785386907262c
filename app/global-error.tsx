"use client";

import "./globals.css";

// When even the root layout fails (the database is down, say): a plain page of our own, never a stack trace.
export default function GlobalError({ reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <html lang="en">
      <body className="min-h-screen bg-slate-50 p-6 font-sans text-slate-900">
        <div className="mx-auto max-w-xl space-y-4 rounded-lg border border-red-200 bg-white p-6" role="alert">
          <h1 className="text-xl font-semibold text-red-800">MLS-GOAT is having trouble</h1>
          <p>The site could not load. Please try again in a minute; if it keeps failing, tell the organisers.</p>
          <button type="button" onClick={reset} className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white">
            Try again
          </button>
        </div>
      </body>
    </html>
  );
}
