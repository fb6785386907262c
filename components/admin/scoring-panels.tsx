"use client";
import { useState, useTransition } from "react";
import { previewScoreFormulaAction, type FormulaPreviewState } from "@/app/admin/actions";
import type { RescorePlan } from "@/lib/admin/scoring-edit";
import { primaryButton, secondaryButton } from "@/components/site/form-parts";

/**
 * The task editor's two scoring panels (docs/ranking.md): the confirmation a scoring edit needs
 * before it re-scores a task's submissions, and the preview of a score formula on the task's
 * current results.
 */
const FIELD_NAMES: Record<string, string> = {
  datasetVersion: "dataset",
  splitSeed: "split seed",
  publicFraction: "public fraction",
  metrics: "metrics",
  rankMetric: "ranking metric",
  direction: "direction",
  topK: "k for top-k",
  scoreFormula: "score formula",
};

const shown = (value: unknown) => (value === null || value === "" ? "(none)" : Array.isArray(value) ? value.join(", ") : String(value));

/** Rendered inside the task form: its confirm button posts the form again with confirmRescore=true. */
export function RescoreConfirm({ plan }: { plan: RescorePlan }) {
  const [open, setOpen] = useState(true);
  if (!open) return null;
  return (
    <div role="alertdialog" aria-modal="false" aria-labelledby="rescore-confirm-title" className="rounded-md border border-amber-400 bg-amber-50 p-4" data-testid="rescore-confirm">
      <h2 id="rescore-confirm-title" className="font-semibold text-amber-950">
        Re-score {plan.submissions} submissions?
      </h2>
      <p className="mt-1 text-sm text-amber-950">This edit changes how submissions are scored:</p>
      <ul className="mt-1 list-disc pl-5 text-sm text-amber-950">
        {plan.changes.map((change) => (
          <li key={change.field}>
            {FIELD_NAMES[change.field] ?? change.field}: <span className="font-mono">{shown(change.from)}</span> → <span className="font-mono">{shown(change.to)}</span>
          </li>
        ))}
      </ul>
      <p className="mt-2 text-sm text-amber-950">
        Every scored or failed submission is evaluated again under the new scoring. Until that finishes the leaderboard says &ldquo;re-scoring n of m&rdquo; and shows only
        re-scored results.
      </p>
      <div className="mt-3 flex flex-wrap gap-2">
        <button type="submit" name="confirmRescore" value="true" className={primaryButton}>
          Save and re-score {plan.submissions} submissions
        </button>
        <button type="button" className={secondaryButton} onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </div>
  );
}

const formatScore = (value: number | null) => (value === null ? "—" : value.toPrecision(6));

/** Reads the formula (and the metrics and direction typed so far) from the form and previews it. */
export function FormulaPreviewPanel({ slug, readForm }: { slug: string; readForm: () => { formula: string; metrics: string; direction: string } }) {
  const [answer, setAnswer] = useState<FormulaPreviewState | null>(null);
  const [pending, startTransition] = useTransition();
  const preview = () =>
    startTransition(async () => {
      const { formula, metrics, direction } = readForm();
      const data = new FormData();
      data.set("slug", slug);
      data.set("formula", formula);
      data.set("metrics", metrics);
      data.set("direction", direction);
      setAnswer(await previewScoreFormulaAction(null, data));
    });
  return (
    <div className="grid gap-2" data-testid="formula-preview">
      <div>
        <button type="button" className={secondaryButton} onClick={preview} disabled={pending}>
          {pending ? "Previewing…" : "Preview the formula on current results"}
        </button>
      </div>
      {answer && !answer.ok && (
        <p role="status" className="text-sm text-red-700" data-testid="formula-preview-error">
          {answer.message}
        </p>
      )}
      {answer?.ok && (
        <div className="overflow-x-auto">
          {answer.preview.problem && (
            <p role="status" className="text-sm text-red-700" data-testid="formula-preview-error">
              The formula cannot be computed for every result, so it cannot be saved: {answer.preview.problem}
            </p>
          )}
          <table className="w-full text-left text-sm">
            <caption className="text-left text-xs text-slate-600">
              <span className="font-mono">{answer.preview.formula}</span> on each team&apos;s counted public result ({answer.preview.direction === "MAXIMIZE" ? "higher" : "lower"} is better). Nothing changes until you save.
            </caption>
            <thead>
              <tr className="border-b border-slate-300">
                <th className="p-1">Team</th>
                <th className="p-1">Submission</th>
                <th className="p-1 text-right">Current score</th>
                <th className="p-1 text-right">Current rank</th>
                <th className="p-1 text-right">Formula score</th>
                <th className="p-1 text-right">New rank</th>
              </tr>
            </thead>
            <tbody>
              {answer.preview.rows.length === 0 && (
                <tr>
                  <td colSpan={6} className="p-1 text-slate-600">
                    No results yet: the formula is checked on each result as it comes.
                  </td>
                </tr>
              )}
              {answer.preview.rows.map((row) => (
                <tr key={row.submissionId} className="border-b border-slate-100" data-testid="formula-preview-row">
                  <td className="p-1">{row.team}</td>
                  <td className="p-1 font-mono">#{row.submissionId}</td>
                  <td className="p-1 text-right font-mono">{formatScore(row.currentScore)}</td>
                  <td className="p-1 text-right">{row.currentRank}</td>
                  <td className="p-1 text-right font-mono">{row.problem ? <span className="text-red-700">{row.problem}</span> : formatScore(row.formulaScore)}</td>
                  <td className="p-1 text-right">{row.newRank ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
