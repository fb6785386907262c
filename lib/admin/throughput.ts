/** Evaluations per minute as the dashboard charts them. */
export interface ThroughputMinute {
  minute: string;
  scored: number;
  failed: number;
  avgEvalMs: number | null;
}

/**
 * One row per minute of the last hour, a quiet minute as zero evaluations (and no average): the
 * query only returns minutes that had a result, and a chart would otherwise join the gaps.
 */
export function everyMinute(
  rows: { minute: Date; scored: bigint | number; failed: bigint | number; avg_ms: number | null }[],
  from: Date,
  to: Date,
): ThroughputMinute[] {
  const byMinute = new Map(rows.map((row) => [row.minute.getTime(), row]));
  const out: ThroughputMinute[] = [];
  const first = Math.floor(from.getTime() / 60_000) * 60_000;
  for (let minute = first; minute <= to.getTime(); minute += 60_000) {
    const row = byMinute.get(minute);
    out.push({
      minute: new Date(minute).toISOString(),
      scored: row ? Number(row.scored) : 0,
      failed: row ? Number(row.failed) : 0,
      avgEvalMs: row && row.avg_ms !== null ? Math.round(Number(row.avg_ms)) : null,
    });
  }
  return out;
}
