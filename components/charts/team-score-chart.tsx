"use client";

import { CartesianGrid, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from "recharts";
import { scoreDomain } from "./score-domain";

/**
 * The team's own scored submissions, in order: one point per attempt. Points, not a smoothed
 * line: nothing lies between two submissions. Animations off (stable screenshots, no jank).
 */
export function TeamScoreChart({ points, metric }: { points: { id: number; score: number }[]; metric: string }) {
  if (points.length === 0) return <p className="text-sm text-slate-600">No scored submissions yet.</p>;
  const domain = scoreDomain(
    points.map((point) => point.score),
    metric,
  );
  return (
    <div className="h-56 w-full" data-testid="team-score-chart">
      <ResponsiveContainer width="100%" height="100%">
        <ScatterChart margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          <XAxis dataKey="id" type="number" domain={["dataMin", "dataMax"]} allowDecimals={false} tickFormatter={(id) => `#${id}`} fontSize={12} name="Submission" />
          <YAxis dataKey="score" type="number" domain={domain} allowDataOverflow fontSize={12} width={56} tickFormatter={(value: number) => value.toFixed(3)} name={metric} />
          <Tooltip formatter={(value, name) => (name === metric ? [Number(value).toFixed(4), metric] : [`#${value}`, "Submission"])} />
          <Scatter data={points} fill="#4f46e5" isAnimationActive={false} />
        </ScatterChart>
      </ResponsiveContainer>
    </div>
  );
}
