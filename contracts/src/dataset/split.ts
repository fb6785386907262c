/**
 * The public/private split of a task's test rows. Public rows feed the live leaderboard;
 * private rows are scored too but shown only when the task ends, so that teams cannot
 * overfit the ranking by probing it.
 *
 * The split must come out the same on every worker and after every deploy for a given
 * (rows, fraction, seed): changing the generator or the shuffle below reshuffles the rows
 * of every existing task, so treat the algorithm as part of the data format.
 */
import { mulberry32, shuffleInPlace } from "../seeded-random";

export interface PublicPrivateSplit {
  /** Row indices on the public leaderboard, ascending. */
  publicRows: Uint32Array;
  /** The remaining row indices, ascending. */
  privateRows: Uint32Array;
}

/**
 * Splits rows 0..rows-1 into exactly round(rows * publicFraction) public rows and the rest
 * private: a Fisher-Yates shuffle seeded with `seed`, the first part public.
 */
export function publicPrivateSplit(rows: number, publicFraction: number, seed: number): PublicPrivateSplit {
  if (!Number.isInteger(rows) || rows < 0 || rows > 0xffffffff) {
    throw new RangeError(`rows must be a non-negative 32-bit integer, got ${rows}`);
  }
  if (!(publicFraction >= 0 && publicFraction <= 1)) {
    throw new RangeError(`publicFraction must be within [0, 1], got ${publicFraction}`);
  }
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);

  const order = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  shuffleInPlace(order, mulberry32(seed));
  const publicCount = Math.round(rows * publicFraction);
  // Typed-array sort is numeric (not lexicographic like Array.prototype.sort).
  return {
    publicRows: order.slice(0, publicCount).sort(),
    privateRows: order.slice(publicCount).sort(),
  };
}
