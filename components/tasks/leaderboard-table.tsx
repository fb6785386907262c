"use client";

import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { RelativeTime } from "@/components/site/relative-time";
import { ScrollTable } from "@/components/site/scroll-table";
import { formatScore } from "@/components/tasks/format";
import type { ScoredEvent } from "@/lib/events/leaderboard-stream";
import type { LeaderboardEntry, RescoreProgress } from "@/lib/leaderboard/board";
import { patchRankedRows } from "@/lib/leaderboard/ranking";
import { markStatisticalTier, statisticalTierSize } from "@/lib/leaderboard/uncertainty";
import { ScoreWithInterval, TierLegend, TierMarker } from "@/components/tasks/score-interval";
import { announceBoardReveal } from "@/components/tasks/board-reveal-notice";
import { RankChange } from "@/components/tasks/rank-change";
import { ReferenceRowView } from "@/components/tasks/reference-row";
import { placeReferenceRow, type ReferenceRow } from "@/lib/leaderboard/reference-rows";
import { useLeaderboardViewer } from "@/components/tasks/leaderboard-viewer";

/**
 * One page of the leaderboard, kept live: each "scored" event carries the scoring team's new row,
 * which is patched into the page here (no refetch, no re-render on the server). Between events an
 * open tab costs the server one idle stream. The reader's own team (its row marked, and kept above
 * the page when it is not on it) comes from the page's viewer (leaderboard-viewer.tsx), once known.
 */
export interface LeaderboardTableProps {
  /** the server's clock when the page was rendered: relative times measure from it, not the browser's clock */
  renderedAt: string;
  taskSlug: string;
  board: "public" | "private";
  metric: string;
  direction: "MAXIMIZE" | "MINIMIZE";
  rows: LeaderboardEntry[];
  /** the first page of the whole board (no search): rows move and ranks are recomputed on patches */
  topOfBoard: boolean;
  pageSize: number;
  emptyText: string;
  /** teams in the leader's statistically tied tier, over the whole board */
  statisticallyTiedTeams: number;
  /** the task's scoring version when the page was rendered, and its re-score's progress (docs/ranking.md) */
  scoringVersion: number;
  rescoring: RescoreProgress | null;
  /** public board: each team's rank at the start of the UTC day (lib/leaderboard/day-start.ts), for the move arrows */
  dayStartRanks?: Record<number, number>;
  /** the organisers' reference row when the task shows it and it falls on this page (lib/leaderboard/reference-rows.ts) */
  reference?: ReferenceRow | null;
  /** this page holds the board's last rows (a reference below every row goes at its end) */
  endsBoard?: boolean;
}

export function LeaderboardTable(props: LeaderboardTableProps) {
  const { taskSlug, board, direction, pageSize, topOfBoard } = props;
  const viewer = useLeaderboardViewer();
  const ownTeamId = viewer?.user?.team?.id ?? null;
  const [rows, setRows] = useState(props.rows);
  // The team's row as a live event last patched it, else as the viewer answered it.
  const [ownPatch, setOwnPatch] = useState<LeaderboardEntry | null>(null);
  const ownEntry = ownPatch ?? viewer?.ownEntry ?? null;
  // Read by the stream's handler: learning the team must not reopen the stream.
  const ownTeam = useRef(ownTeamId);
  useEffect(() => {
    ownTeam.current = ownTeamId;
  }, [ownTeamId]);
  const [connected, setConnected] = useState(false);
  const [rescoring, setRescoring] = useState(props.rescoring);
  const router = useRouter();
  const { scoringVersion } = props;

  useEffect(() => {
    const source = new EventSource(`/api/tasks/${encodeURIComponent(taskSlug)}/leaderboard/events`);
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(false);
    source.addEventListener("scored", (message) => {
      const event = JSON.parse((message as MessageEvent<string>).data) as ScoredEvent;
      // The scoring changed since the page was drawn: its rows are of an older version, draw it again.
      if (event.scoringVersion !== scoringVersion) return router.refresh();
      setRescoring(event.rescoring);
      const changed = board === "private" ? event.private : event.public;
      if (!changed) return;
      // On the board's first page the leader is on the page, so its tier is regrouped here.
      setRows((current) => {
        const patched = patchRankedRows(current, changed, { direction, topOfBoard, pageSize });
        return topOfBoard ? markStatisticalTier(patched) : patched;
      });
      if (changed.teamId === ownTeam.current) setOwnPatch(changed);
    });
    // The private board was revealed or hidden: components/tasks/board-reveal-notice.tsx takes it from here.
    for (const name of ["revealed", "hidden"]) source.addEventListener(name, (message) => announceBoardReveal(JSON.parse((message as MessageEvent<string>).data)));
    return () => source.close();
  }, [taskSlug, board, direction, topOfBoard, pageSize, scoringVersion, router]);

  const isPrivate = board === "private";
  const tierSize = topOfBoard ? statisticalTierSize(rows) : props.statisticallyTiedTeams;
  const ownOffPage = ownEntry && !rows.some((row) => row.teamId === ownEntry.teamId) ? ownEntry : null;
  const row = (entry: LeaderboardEntry, testId: string) => (
    <tr key={`${testId}-${entry.teamId}`} className={ownTeamId === entry.teamId ? "bg-indigo-50" : ""} data-testid={testId} data-team={entry.team}>
      <td className="py-2 pr-3 font-semibold" data-testid="rank-cell">
        <span data-testid="rank">{entry.rank}</span>
        {props.dayStartRanks && <RankChange now={entry.rank} before={props.dayStartRanks[entry.teamId]} since="since 00:00 UTC" />}
      </td>
      {isPrivate && (
        <td className="py-2 pr-3" data-testid="public-rank-cell">
          <span data-testid="public-rank">{entry.publicRank ?? "–"}</span>
          <RankChange now={entry.rank} before={entry.publicRank} since="from the public board" />
        </td>
      )}
      <td className="py-2 pr-3">
        {entry.team}
        {tierSize > 1 && entry.statisticallyTied && <TierMarker />}
      </td>
      <td className="py-2 pr-3 text-right font-mono">
        <ScoreWithInterval score={entry.score} interval={entry.interval} />
        {entry.olderScoring && (
          <span className="ml-1 block text-xs font-sans text-amber-800" data-testid="older-scoring" title="Its re-score under the current scoring failed; this result was computed under an older version.">
            scoring v{entry.scoringVersion}, re-score failed
          </span>
        )}
      </td>
      {isPrivate && <td className="py-2 pr-3 text-right font-mono">{entry.publicScore !== undefined ? formatScore(entry.publicScore) : "–"}</td>}
      <td className="py-2 pr-3 text-right">{entry.submissionCount}</td>
      {isPrivate && (
        <td className="py-2 pr-3" data-testid="counted-submission">
          #{entry.submissionId}
          {entry.final && <span className="ml-1 text-xs text-slate-600">({entry.final === "selected" ? "selected final" : "default final"})</span>}
        </td>
      )}
      <td className="py-2">
        <RelativeTime iso={entry.submittedAt} serverNow={props.renderedAt} />
      </td>
    </tr>
  );

  return (
    <div className="space-y-2">
      {rescoring && (
        <p role="status" className="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-950" data-testid="rescoring-banner">
          The organisers changed how this task is scored: re-scoring {rescoring.done} of {rescoring.total} submissions. Until it finishes the board shows
          only submissions already scored under the new rules (scoring version {scoringVersion}).
        </p>
      )}
      <p className="text-right text-xs text-slate-500" data-testid="live-indicator">
        <span className={`mr-1 inline-block h-2 w-2 rounded-full ${connected ? "bg-green-500" : "bg-slate-400"}`} />
        {connected ? "Live" : "Connecting…"}
      </p>
      {tierSize > 1 && <TierLegend teams={tierSize} />}
      {rows.length === 0 && !ownOffPage ? (
        <p className="text-sm text-slate-600">{props.emptyText}</p>
      ) : (
        <ScrollTable label={isPrivate ? "Private leaderboard" : "Leaderboard"}>
          <table className="w-full text-left text-sm" data-testid="leaderboard-table">
            <thead className="text-xs uppercase text-slate-500">
              <tr>
                <th className="py-2 pr-3">{isPrivate ? "Private rank" : "Rank"}</th>
                {isPrivate && <th className="py-2 pr-3">Public rank</th>}
                <th className="py-2 pr-3">Team</th>
                <th className="py-2 pr-3 text-right">{props.metric}</th>
                {isPrivate && <th className="py-2 pr-3 text-right">Public score</th>}
                <th className="py-2 pr-3 text-right">{isPrivate ? "Finals" : "Entries"}</th>
                {isPrivate && <th className="py-2 pr-3">Counted submission</th>}
                <th className="py-2">Best submitted</th>
              </tr>
            </thead>
            {ownOffPage && <tbody className="border-b-2 border-indigo-200">{row(ownOffPage, "own-row")}</tbody>}
            <tbody className="divide-y divide-slate-100">
              {placeReferenceRow(rows, props.reference ?? null, direction, props.endsBoard ?? false).map((placed) =>
                placed.kind === "team" ? (
                  row(placed.entry, "leaderboard-row")
                ) : (
                  <ReferenceRowView key="reference" reference={placed.reference} columns={{ beforeTeam: isPrivate ? 2 : 1, afterScore: isPrivate ? 4 : 2 }} />
                ),
              )}
            </tbody>
          </table>
        </ScrollTable>
      )}
    </div>
  );
}
