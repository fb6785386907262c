/**
 * The public/private split of a task's test rows. Public rows feed the live leaderboard;
 * private rows are scored too but shown only when the task ends, so that teams cannot
 * overfit the ranking by probing it.
 *
 * The split must come out the same on every worker and after every deploy for a given
 * (rows, fraction, seed): changing the generator or the shuffle below reshuffles the rows
 * of every existing task, so treat the algorithm as part of the data format.
 */

/** mulberry32: a small, well-mixed 32-bit PRNG; returns floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
  const random = mulberry32(seed);
  for (let i = rows - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = order[i];
    order[i] = order[j];
    order[j] = tmp;
  }
  const publicCount = Math.round(rows * publicFraction);
  // Typed-array sort is numeric (not lexicographic like Array.prototype.sort).
  return {
    publicRows: order.slice(0, publicCount).sort(),
    privateRows: order.slice(publicCount).sort(),
  };
}
