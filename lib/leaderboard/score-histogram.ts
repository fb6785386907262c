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
  const bins: ScoreBin[] = Array.from({ length: count }, (_, index) => ({
    from: low + index * width,
    to: index === count - 1 ? high : low + (index + 1) * width,
    teams: 0,
    own: false,
  }));
  for (const score of scores) bins[binIndexOf(bins, score)].teams += 1;
  return markOwnBin(bins, ownScore);
}

/**
 * The bins with the one that holds `ownScore` marked, and no other (none when it is null or outside
 * them). The leaderboard page's HTML is the same for every reader: the browser marks the reader's
 * team with this, from its best public score (lib/leaderboard/viewer.ts).
 */
export function markOwnBin(bins: ScoreBin[], ownScore: number | null): ScoreBin[] {
  const own = ownScore === null ? -1 : binIndexOf(bins, ownScore);
  return bins.map((bin, index) => (bin.own === (index === own) ? bin : { ...bin, own: index === own }));
}

/** The bin a score falls in (equal widths from the first bin's start to the last one's end, which is inclusive), or -1 outside them. */
function binIndexOf(bins: readonly ScoreBin[], score: number): number {
  if (bins.length === 0) return -1;
  const low = bins[0].from;
  const high = bins[bins.length - 1].to;
  if (!(score >= low && score <= high)) return -1;
  const width = (high - low) / bins.length;
  return width === 0 ? 0 : Math.min(bins.length - 1, Math.floor((score - low) / width));
}
