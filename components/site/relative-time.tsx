"use client";

import { useEffect, useState } from "react";
import { localLabel, utcLabel } from "./local-time";

/**
 * "3 min ago", computed in the browser, with the exact time (local zone and UTC) on hover. The
 * browser's clock may run behind the server's: given `serverNow` (the server's time when it
 * rendered), the difference is measured once and applied, so a result just stored never reads
 * "in 2 s".
 */
export function formatAgo(iso: string, now: number): string {
  const seconds = Math.round((now - Date.parse(iso)) / 1000);
  // Whatever skew is left (network time) is never shown as a future moment.
  if (seconds > -60 && seconds < 5) return "just now";
  const future = seconds < 0;
  const s = Math.abs(seconds);
  const text = s < 45 ? `${s} s` : s < 3600 ? `${Math.round(s / 60)} min` : s < 86400 ? `${Math.round(s / 3600)} h` : `${Math.round(s / 86400)} d`;
  return future ? `in ${text}` : `${text} ago`;
}

export function RelativeTime({ iso, fallback = "never", serverNow }: { iso: string | null; fallback?: string; serverNow?: string }) {
  // "now" on the server's clock: the browser's clock plus the skew measured when the page arrived.
  const [now, setNow] = useState<number | null>(null);
  useEffect(() => {
    const offset = serverNow ? Date.parse(serverNow) - Date.now() : 0;
    const tick = () => setNow(Date.now() + offset);
    tick();
    const timer = setInterval(tick, 15_000);
    return () => clearInterval(timer);
  }, [serverNow]);
  if (!iso) return <span className="text-slate-600">{fallback}</span>;
  const utc = utcLabel(iso, true);
  return (
    <time dateTime={iso} title={now === null ? utc : `${localLabel(iso, { withSeconds: true })} (${utc})`} className="whitespace-nowrap">
      {now === null ? utc : formatAgo(iso, now)}
    </time>
  );
}
