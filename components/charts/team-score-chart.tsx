"use client";

import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

/** The team's own scored submissions, in order: how each attempt did. Animations off (stable screenshots, no jank). */
export function TeamScoreChart({ points, metric }: { points: { id: number; score: number }[]; metric: string }) {
  if (points.length === 0) return <p className="text-sm text-slate-600">No scored submissions yet.</p>;
  return (
    <div className="h-56 w-full" data-testid="team-score-chart">
      <ResponsiveContainer width="100%" height="100%">
        <LineChart data={points} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          <XAxis dataKey="id" tickFormatter={(id) => `#${id}`} fontSize={12} />
          <YAxis domain={["auto", "auto"]} fontSize={12} width={56} tickFormatter={(value: number) => value.toFixed(3)} />
          <Tooltip formatter={(value) => [Number(value).toFixed(4), metric]} labelFormatter={(id) => `Submission #${id}`} />
          <Line type="monotone" dataKey="score" stroke="#4f46e5" strokeWidth={2} dot={{ r: 3 }} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
