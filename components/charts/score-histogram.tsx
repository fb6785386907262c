"use client";

import { Bar, BarChart, CartesianGrid, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { formatScore } from "@/components/tasks/format";
import type { ScoreBin } from "@/lib/leaderboard/score-histogram";

/**
 * How the teams' best public scores are spread (lib/leaderboard/score-histogram.ts), the signed-in team's bar
 * in a second colour and named in words below (colour is never the only cue). Both colours are at
 * least 3:1 (WCAG 1.4.11, graphics) against the light card (#fff: 4.5 and 3.2) and the dark one
 * (slate-900: 4.0 and 5.6), so neither theme needs its own palette; no animation (stable screenshots).
 */
const TEAMS = "#6366f1";
const OWN = "#d97706";

export function ScoreHistogram({ bins, metric, ownTeam }: { bins: ScoreBin[]; metric: string; ownTeam: string | null }) {
  if (bins.length === 0) return <p className="text-sm text-slate-600">No scores yet.</p>;
  const rows = bins.map((bin) => ({ ...bin, label: `${formatScore(bin.from)}–${formatScore(bin.to)}` }));
  const own = bins.find((bin) => bin.own);
  return (
    <figure className="space-y-2" data-testid="score-histogram">
      <div className="h-56 w-full">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={rows} margin={{ top: 8, right: 8, bottom: 8, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" vertical={false} />
            <XAxis dataKey="from" fontSize={11} tickFormatter={(value: number) => value.toFixed(3)} minTickGap={8} />
            <YAxis allowDecimals={false} fontSize={12} width={32} />
            <Tooltip labelFormatter={(_, payload) => `${metric} ${payload?.[0]?.payload?.label ?? ""}`} formatter={(value) => [String(value), "teams"]} />
            <Bar dataKey="teams" isAnimationActive={false}>
              {rows.map((bin) => (
                <Cell key={bin.label} fill={bin.own ? OWN : TEAMS} data-own={bin.own ? "true" : undefined} />
              ))}
            </Bar>
          </BarChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="text-xs text-slate-600">
        Teams per range of best public {metric} ({bins.reduce((sum, bin) => sum + bin.teams, 0)} teams).
        {own && ownTeam && (
          <span data-testid="histogram-own">
            {" "}
            <span className="mr-1 inline-block h-2.5 w-2.5 rounded-sm align-middle" style={{ background: OWN }} aria-hidden="true" />
            {ownTeam} is in {formatScore(own.from)}–{formatScore(own.to)}.
          </span>
        )}
      </figcaption>
      <table className="sr-only">
        <caption>Score distribution</caption>
        <thead>
          <tr>
            <th>{metric} range</th>
            <th>teams</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((bin) => (
            <tr key={bin.label}>
              <td>{bin.label}</td>
              <td>{bin.teams}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
