import { formatScore } from "@/components/tasks/format";
import type { ScoreInterval } from "@/lib/leaderboard/uncertainty";

/**
 * A board's score with its 95% bootstrap interval below it, and the marker and legend of the
 * leader's statistically tied tier (docs/ranking.md, "How sure is a rank").
 */
export function ScoreWithInterval({ score, interval }: { score: number; interval: ScoreInterval | null }) {
  return (
    <>
      <span data-testid="score">{formatScore(score)}</span>
      {interval && (
        <span className="block whitespace-nowrap text-xs text-slate-600" data-testid="interval" title="95% bootstrap interval">
          {formatScore(interval.low)}–{formatScore(interval.high)}
        </span>
      )}
    </>
  );
}

export function TierMarker() {
  return (
    <span
      className="ml-2 inline-block whitespace-nowrap rounded-full bg-amber-100 px-2 py-0.5 text-xs font-medium text-amber-900"
      data-testid="tied-marker"
      title="Statistically tied with the leader: the 95% intervals overlap"
    >
      ≈ 1st
    </span>
  );
}

export function TierLegend({ teams }: { teams: number }) {
  return (
    <p className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="tier-legend">
      <span className="font-medium">{teams} teams are statistically tied for first</span> (marked ≈ 1st): their 95% intervals overlap the
      leader&apos;s, so on this test set their difference from the leader is within the noise of which rows it holds. The range under each score
      is its interval.
    </p>
  );
}
