import { describeMove, rankMove } from "@/lib/leaderboard/rank-movement";

/**
 * A team's move as an arrow and a number of places: since the start of the UTC day on the public
 * board, from the public rank on the revealed private board. The words are there for screen
 * readers and as a tooltip; the colours are AA on white, and the dark theme mirrors them (app/globals.css).
 */
const STYLE = {
  up: "text-emerald-700",
  down: "text-red-700",
  same: "text-slate-600",
  new: "text-indigo-700",
} as const;

export function RankChange({ now, before, since }: { now: number; before: number | undefined; since: string }) {
  const move = rankMove(now, before);
  const words = describeMove(move, since);
  const shown = move.kind === "up" ? `▲${move.places}` : move.kind === "down" ? `▼${move.places}` : move.kind === "same" ? "–" : "new";
  return (
    <span className={`ml-2 whitespace-nowrap text-xs font-medium ${STYLE[move.kind]}`} data-testid="rank-change" data-move={move.kind} title={words}>
      <span aria-hidden="true">{shown}</span>
      <span className="sr-only">{words}</span>
    </span>
  );
}
