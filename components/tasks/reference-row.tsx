import { formatScore } from "@/components/tasks/format";
import type { ReferenceRow } from "@/lib/leaderboard/reference-rows";

/** The organisers' reference model on a board: not ranked (no rank cell), labelled, dashed and shaded. */
export function ReferenceRowView({ reference, columns }: { reference: ReferenceRow; columns: { beforeTeam: number; afterScore: number } }) {
  return (
    <tr className="border-y border-dashed border-slate-400 bg-slate-50 italic text-slate-700" data-testid="reference-row">
      <td className="py-2 pr-3 text-xs not-italic" colSpan={columns.beforeTeam}>
        <span className="sr-only">not ranked</span>
        <span aria-hidden="true">—</span>
      </td>
      <td className="py-2 pr-3">
        <span className="rounded bg-slate-200 px-1.5 py-0.5 text-xs font-semibold not-italic text-slate-800">{reference.label}</span>
      </td>
      <td className="py-2 pr-3 text-right font-mono" data-testid="reference-score">
        {formatScore(reference.score)}
      </td>
      <td className="py-2 text-xs" colSpan={columns.afterScore}>
        not ranked
      </td>
    </tr>
  );
}
