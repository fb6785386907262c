import "server-only";
import { FormulaError, evaluateScoreFormula, formulaScope, formulaVariables, parseScoreFormula } from "@goat/contracts/score-formula";
import type { MetricValues } from "@goat/contracts/metrics";
import { db } from "../db";
import { assignRanks, compareEntries } from "../leaderboard/ranking";
import type { SessionUser } from "../auth/session";
import { assertAdmin } from "./authorize";
import { currentScoring } from "./scoring-edit";

/**
 * The task editor's score-formula preview (docs/ranking.md, "Score formulas"): the formula through
 * contracts/src/score-formula.ts, the module the worker scores with, on the task's current results.
 */
/** One row of a formula preview: a team's best result now, and what the formula makes of it. */
export interface FormulaPreviewRow {
  team: string;
  submissionId: number;
  currentScore: number;
  currentRank: number;
  formulaScore: number | null;
  newRank: number | null;
  /** why the formula cannot be computed for this result (division by zero, NaN) */
  problem: string | null;
}

export interface FormulaPreview {
  formula: string;
  direction: "MAXIMIZE" | "MINIMIZE";
  rows: FormulaPreviewRow[];
  /** the first result the formula cannot be computed for: saving is refused while there is one */
  problem: string | null;
}

/**
 * Previews a formula on the task's current public board: for each ranked team, its counted
 * result's public metrics and efficiency figures through the formula, and the rank it would
 * then have among the previewed teams (the formula may also change which of a team's
 * submissions is its best; applying it re-scores every one). Throws FormulaError for a
 * formula that does not parse.
 */
export async function previewScoreFormula(actor: SessionUser | null, slug: string, source: string, overrides: { metrics?: string[]; direction?: "MAXIMIZE" | "MINIMIZE" } = {}): Promise<FormulaPreview> {
  assertAdmin(actor);
  const task = await currentScoring(slug);
  const metrics = overrides.metrics ?? task.metrics;
  const direction = overrides.direction ?? task.direction;
  const formula = parseScoreFormula(source, formulaVariables(metrics));
  const entries = await db.leaderboardEntry.findMany({
    where: { taskId: task.id, board: "PUBLIC" },
    orderBy: [{ score: direction === "MAXIMIZE" ? "desc" : "asc" }, { submittedAt: "asc" }, { submissionId: "asc" }],
    select: {
      score: true, submissionId: true, submittedAt: true, teamId: true, team: { select: { name: true } },
      submission: { select: { result: { select: { publicMetrics: true, paramCount: true, modelBytes: true, latencyP50Ms: true, latencyP95Ms: true } } } },
    },
  });
  const current = assignRanks(entries.map((entry) => ({ teamId: entry.teamId, score: entry.score, submittedAt: entry.submittedAt.toISOString(), submissionId: entry.submissionId })));
  const currentRank = new Map(current.map((entry) => [entry.submissionId, entry.rank]));
  let problem: string | null = null;
  const rows = entries.map((entry) => {
    const result = entry.submission.result;
    let formulaScore: number | null = null;
    let rowProblem: string | null = null;
    try {
      if (!result) throw new FormulaError("the result is missing");
      const figures = { paramCount: Number(result.paramCount), modelBytes: result.modelBytes, latencyP50Ms: result.latencyP50Ms, latencyP95Ms: result.latencyP95Ms };
      formulaScore = evaluateScoreFormula(formula, formulaScope(result.publicMetrics as MetricValues, figures));
    } catch (error) {
      if (!(error instanceof FormulaError)) throw error;
      rowProblem = error.message;
      problem ??= `${error.message} (team ${entry.team.name}, submission ${entry.submissionId})`;
    }
    return { team: entry.team.name, teamId: entry.teamId, submissionId: entry.submissionId, submittedAt: entry.submittedAt.toISOString(), currentScore: entry.score, currentRank: currentRank.get(entry.submissionId) ?? 0, formulaScore, problem: rowProblem };
  });
  const scored = rows.filter((row) => row.formulaScore !== null) as (typeof rows[number] & { formulaScore: number })[];
  const reranked = scored.map((row) => ({ ...row, score: row.formulaScore })).sort((a, b) => compareEntries(direction, a, b));
  const newRank = new Map(assignRanks(reranked).map((entry) => [entry.submissionId, entry.rank]));
  return {
    formula: formula.source,
    direction,
    problem,
    rows: rows.map(({ teamId: _teamId, submittedAt: _submittedAt, ...row }) => ({ ...row, newRank: newRank.get(row.submissionId) ?? null })),
  };
}
