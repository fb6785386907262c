"use client";

// Any error a page throws ends here: a plain message, never a stack trace (Next hides the details in production).
export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div className="mx-auto max-w-xl space-y-4 rounded-lg border border-red-200 bg-white p-6" role="alert">
      <h1 className="text-xl font-semibold text-red-800">Something went wrong</h1>
      <p className="text-slate-700">This page could not be shown. Please try again in a moment; if it keeps failing, tell the organisers.</p>
      {error.digest && <p className="text-xs text-slate-500">Reference: {error.digest}</p>}
      <button type="button" onClick={reset} className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-700">
        Try again
      </button>
    </div>
  );
}
