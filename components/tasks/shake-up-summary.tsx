import type { ShakeUp } from "@/lib/leaderboard/rank-movement";

/** The one-line shake-up of a revealed private board, above its table. */
export function ShakeUpSummary({ shakeUp }: { shakeUp: ShakeUp }) {
  return (
    <p className="rounded-md bg-indigo-50 px-3 py-2 text-sm text-indigo-900" data-testid="shake-up">
      <span className="font-medium">Shake-up:</span> {shakeUp.text} The arrows beside each public rank show how far the team moved.
    </p>
  );
}
