"use client";

import { useEffect, useState } from "react";
import { LocalTime } from "@/components/site/local-time";

/**
 * A deadline: the date, and a ticking countdown once it is within `countdownWithinMs` (the last
 * stretch is when participants watch the clock).
 */
function remaining(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  return d > 0 ? `${d}d ${pad(h)}:${pad(m)}:${pad(sec)}` : `${pad(h)}:${pad(m)}:${pad(sec)}`;
}

export function Deadline({ iso, label, countdownWithinMs = 48 * 3600_000 }: { iso: string | null; label: string; countdownWithinMs?: number }) {
  const [now, setNow] = useState<number | null>(null);
  useEffect(() => {
    const tick = () => setNow(Date.now());
    tick();
    const timer = setInterval(tick, 1000);
    return () => clearInterval(timer);
  }, []);
  if (!iso) return null;
  const at = Date.parse(iso);
  const left = now === null ? null : at - now;
  return (
    <span>
      {label} <LocalTime iso={iso} />
      {left !== null && left > 0 && left <= countdownWithinMs && (
        <span className={`ml-2 rounded px-1.5 py-0.5 font-mono text-xs ${left < 3600_000 ? "bg-red-100 text-red-800" : "bg-amber-100 text-amber-900"}`} data-testid="countdown">
          {remaining(left)}
        </span>
      )}
    </span>
  );
}
