/**
 * What a score means: the settings a result is computed under. The web app compares them before
 * and after a task edit (a change bumps the task's scoringVersion and re-scores its submissions);
 * the worker stores them with each result, so a result says under which rules it was computed
 * (docs/ranking.md, "When the organisers change the scoring").
 */
export interface ScoringSettings {
  datasetVersion: string | null;
  splitSeed: number;
  publicFraction: number;
  metrics: string[];
  rankMetric: string;
  direction: "MAXIMIZE" | "MINIMIZE";
  topK: number;
  scoreFormula: string | null;
}

/** The snapshot a result stores: the settings and the version they belong to. */
export interface ScoringSnapshot extends ScoringSettings {
  version: number;
}

export interface ScoringChange {
  field: keyof ScoringSettings;
  from: unknown;
  to: unknown;
}

export function scoringSettingsOf(task: ScoringSettings): ScoringSettings {
  return {
    datasetVersion: task.datasetVersion,
    splitSeed: task.splitSeed,
    publicFraction: task.publicFraction,
    metrics: [...task.metrics],
    rankMetric: task.rankMetric,
    direction: task.direction,
    topK: task.topK,
    scoreFormula: task.scoreFormula?.trim() || null,
  };
}

/**
 * The settings that differ between two versions. Top-k only counts when the top_k metric is
 * computed (before or after): otherwise it changes no number.
 */
export function scoringChanges(before: ScoringSettings, after: ScoringSettings): ScoringChange[] {
  const changes: ScoringChange[] = [];
  const a = scoringSettingsOf(before);
  const b = scoringSettingsOf(after);
  for (const field of Object.keys(a) as (keyof ScoringSettings)[]) {
    if (field === "topK" && !a.metrics.includes("top_k") && !b.metrics.includes("top_k")) continue;
    if (JSON.stringify(a[field]) !== JSON.stringify(b[field])) changes.push({ field, from: a[field], to: b[field] });
  }
  return changes;
}

/**
 * How many test rows each side of the split gets (the split rounds rows * fraction,
 * contracts/src/dataset/split.ts); a side with none makes every evaluation fail.
 */
export function splitSizes(rows: number, publicFraction: number): { publicRows: number; privateRows: number } {
  const publicRows = Math.round(rows * publicFraction);
  return { publicRows, privateRows: rows - publicRows };
}

/** Why a public fraction cannot be used with a dataset of `rows` rows; null when it can. */
export function emptySplitProblem(rows: number, publicFraction: number): string | null {
  const { publicRows, privateRows } = splitSizes(rows, publicFraction);
  if (publicRows > 0 && privateRows > 0) return null;
  const side = publicRows === 0 ? "public" : "private";
  return `leaves the ${side} leaderboard no rows of the ${rows} test rows (${publicRows} public, ${privateRows} private); each side needs at least one`;
}
