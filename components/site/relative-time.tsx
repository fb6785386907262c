"use client";

import { useEffect, useState } from "react";

/** "3 min ago", computed in the browser (its clock and time zone), with the exact UTC time on hover. */
export function formatAgo(iso: string, now: number): string {
  const seconds = Math.round((now - Date.parse(iso)) / 1000);
  const future = seconds < 0;
  const s = Math.abs(seconds);
  const text = s < 45 ? `${s} s` : s < 3600 ? `${Math.round(s / 60)} min` : s < 86400 ? `${Math.round(s / 3600)} h` : `${Math.round(s / 86400)} d`;
  return future ? `in ${text}` : `${text} ago`;
}

export function RelativeTime({ iso, fallback = "never" }: { iso: string | null; fallback?: string }) {
  const [now, setNow] = useState<number | null>(null);
  useEffect(() => {
    const tick = () => setNow(Date.now());
    tick();
    const timer = setInterval(tick, 15_000);
    return () => clearInterval(timer);
  }, []);
  if (!iso) return <span className="text-slate-500">{fallback}</span>;
  const exact = new Date(iso).toISOString().replace("T", " ").slice(0, 19) + " UTC";
  return (
    <time dateTime={iso} title={exact}>
      {now === null ? exact : formatAgo(iso, now)}
    </time>
  );
}
