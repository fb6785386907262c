/**
 * The distribution of the teams' best public scores, as the leaderboard page draws it: equal-width
 * bins between the lowest and the highest score, about the square root of the number of teams
 * (at most MAX_BINS), so that each bar holds a few teams. Pure; it is given only what the public
 * board shows (the freeze holds).
 */
export interface ScoreBin {
  from: number;
  to: number;
  teams: number;
  /** the signed-in team's best score falls in this bin */
  own: boolean;
}

const MAX_BINS = 12;

export function scoreHistogram(scores: readonly number[], ownScore: number | null = null): ScoreBin[] {
  if (scores.length === 0) return [];
  const low = Math.min(...scores);
  const high = Math.max(...scores);
  const count = high === low ? 1 : Math.min(MAX_BINS, Math.max(2, Math.ceil(Math.sqrt(scores.length))));
  const width = (high - low) / count;
  const binOf = (score: number) => (width === 0 ? 0 : Math.min(count - 1, Math.floor((score - low) / width)));
  const bins: ScoreBin[] = Array.from({ length: count }, (_, index) => ({
    from: low + index * width,
    to: index === count - 1 ? high : low + (index + 1) * width,
    teams: 0,
    own: false,
  }));
  for (const score of scores) bins[binOf(score)].teams += 1;
  if (ownScore !== null && ownScore >= low && ownScore <= high) bins[binOf(ownScore)].own = true;
  return bins;
}
