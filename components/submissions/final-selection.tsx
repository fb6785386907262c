"use client";

import { useState } from "react";
import { useHydrated } from "@/components/site/local-time";
import type { FinalSelection } from "@/lib/leaderboard/finals";

/**
 * The team's final submissions (docs/ranking.md "Final submissions"): a summary ("n of K
 * selected", or which default finals stand in) and a toggle per scored submission. A toggle posts
 * the whole new selection to POST /api/tasks/{task}/finals, the same route the CLI and scripts use,
 * and hands the server's answer back to the page.
 */
export function FinalsSummary({ finals }: { finals: FinalSelection }) {
  const closes = finals.closesAt ? `${new Date(finals.closesAt).toISOString().slice(0, 16).replace("T", " ")} UTC` : null;
  return (
    <div className="rounded-md border border-amber-200 bg-amber-50 p-3 text-sm text-amber-950" data-testid="finals-summary">
      <p>
        <strong>Final submissions: {finals.default ? 0 : finals.selected.length} of {finals.limit} selected.</strong>{" "}
        The private leaderboard ranks your team by the best private score among its finals.
      </p>
      <p className="mt-1">
        {finals.default
          ? finals.finals.length > 0
            ? `None selected: your ${finals.limit} best public submissions count by default (${finals.finals.map((id) => `#${id}`).join(", ")}).`
            : `None selected: your ${finals.limit} best public submissions will count by default.`
          : `Counting: ${finals.finals.map((id) => `#${id}`).join(", ") || "none of them has a result now"}.`}{" "}
        {finals.open ? (closes ? `You can change them until the task closes (${closes}).` : "You can change them until the task closes.") : "The task has closed: the selection can no longer change."}
      </p>
    </div>
  );
}

export function FinalToggle({
  taskSlug,
  submissionId,
  finals,
  onChanged,
}: {
  taskSlug: string;
  submissionId: number;
  finals: FinalSelection;
  onChanged: (finals: FinalSelection) => void;
}) {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // Disabled until hydrated: a click on the server's HTML would tick the box without saving anything
  // (its onChange is not attached yet), and the page would show a final that does not count.
  const hydrated = useHydrated();
  const selectedIds = finals.selected.map((entry) => entry.submissionId);
  const checked = selectedIds.includes(submissionId);
  const isDefault = finals.default && finals.finals.includes(submissionId);

  async function toggle() {
    setPending(true);
    setError(null);
    const submissionIds = checked ? selectedIds.filter((id) => id !== submissionId) : [...selectedIds, submissionId];
    try {
      const response = await fetch(`/api/tasks/${encodeURIComponent(taskSlug)}/finals`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ submissionIds }),
      });
      const body = (await response.json().catch(() => null)) as (FinalSelection & { error?: { message?: string } }) | null;
      if (response.ok && body) onChanged(body);
      else setError(body?.error?.message ?? "The selection could not be saved; try again.");
    } catch {
      setError("The selection could not be saved; try again.");
    } finally {
      setPending(false);
    }
  }

  return (
    <span className="inline-flex flex-wrap items-center gap-2 text-sm" data-testid="final-toggle">
      <label
        className="inline-flex items-center gap-1.5"
        title={!checked && selectedIds.length >= finals.limit ? `At most ${finals.limit} finals: untick another one first.` : undefined}
      >
        <input
          type="checkbox"
          checked={checked}
          disabled={!hydrated || pending || !finals.open || (!checked && selectedIds.length >= finals.limit)}
          onChange={() => void toggle()}
          data-testid="final-checkbox"
        />
        <span>Final</span>
      </label>
      {isDefault && (
        <span className="rounded-full bg-amber-100 px-2 py-0.5 text-xs font-medium text-amber-900" data-testid="default-final">
          default final
        </span>
      )}
      {error && (
        <span role="alert" className="text-xs text-red-700">
          {error}
        </span>
      )}
    </span>
  );
}
