"use client";

import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { useHydrated, zoneName } from "@/components/site/local-time";
import { scoreDomain } from "./score-domain";

/** Best public score over time of the top teams: one step line per team. Animations off. */
// Each at least 3:1 against white (WCAG 2.1 AA for graphics, 1.4.11).
const COLOURS = ["#4f46e5", "#047857", "#b45309", "#dc2626", "#0e7490", "#7c3aed", "#4d7c0f", "#db2777"];

export interface BestScoreChartSeries {
  team: string;
  points: { at: string; best: number }[];
}

export function BestScoreChart({ series, metric }: { series: BestScoreChartSeries[]; metric: string }) {
  const local = useHydrated();
  const withPoints = series.filter((each) => each.points.length > 0);
  if (withPoints.length === 0) return <p className="text-sm text-slate-600">No scores yet.</p>;
  // One row per moment a team improved; recharts joins each team's points with connectNulls.
  const rows = withPoints
    .flatMap((each) => each.points.map((point) => ({ t: Date.parse(point.at), [each.team]: point.best })))
    .sort((a, b) => a.t - b.t);
  // Each team's best holds until the latest improvement of any team, so the steps run side by side.
  const last = rows[rows.length - 1].t;
  for (const each of withPoints) {
    const final = each.points[each.points.length - 1];
    if (Date.parse(final.at) < last) rows.push({ t: last, [each.team]: final.best });
  }
  // The reader's time zone once in the browser (the server renders UTC); the tooltip names the zone.
  const formatTime = (t: number) =>
    local ? new Date(t).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }) : new Date(t).toISOString().slice(5, 16).replace("T", " ");
  // A single moment (one team, one improvement) gets an hour either side, so the point has an axis to sit on.
  const timeDomain: [number | string, number | string] = rows[0].t === last ? [last - 3_600_000, last + 3_600_000] : ["dataMin", "dataMax"];
  const zone = zoneName(local);
  const domain = scoreDomain(withPoints.flatMap((each) => each.points.map((point) => point.best)), metric);
  return (
    <div className="h-72 w-full" data-testid="best-score-chart">
      <ResponsiveContainer width="100%" height="100%">
        <LineChart data={rows} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          <XAxis dataKey="t" type="number" scale="time" domain={timeDomain} tickFormatter={formatTime} fontSize={12} />
          <YAxis domain={domain} allowDataOverflow fontSize={12} width={56} tickFormatter={(value: number) => value.toFixed(3)} />
          <Tooltip labelFormatter={(t) => `${formatTime(Number(t))} ${zone}`} formatter={(value, name) => [Number(value).toFixed(4), `${name} (${metric})`]} />
          <Legend />
          {withPoints.map((each, index) => (
            <Line key={each.team} type="stepAfter" dataKey={each.team} stroke={COLOURS[index % COLOURS.length]} strokeWidth={2} dot={{ r: 3 }} connectNulls isAnimationActive={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
