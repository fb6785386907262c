"use client";

import { useSyncExternalStore } from "react";

/**
 * A time in the reader's own time zone, with the zone named ("29 Nov 2026, 14:05 CET") and the
 * exact UTC time on hover. The server does not know the reader's zone, so the first render (and
 * the server's HTML) shows UTC; the browser swaps in its local form once hydrated.
 */
const subscribeNever = () => () => {};

export function utcLabel(iso: string, withSeconds = false): string {
  return new Date(iso).toISOString().replace("T", " ").slice(0, withSeconds ? 19 : 16) + " UTC";
}

export function localLabel(iso: string, options: { withSeconds?: boolean; dateOnly?: boolean; timeOnly?: boolean } = {}): string {
  const date = new Date(iso);
  return new Intl.DateTimeFormat(undefined, {
    ...(options.timeOnly ? {} : { day: "numeric", month: "short", year: "numeric" }),
    ...(options.dateOnly ? {} : { hour: "2-digit", minute: "2-digit", ...(options.withSeconds ? { second: "2-digit" } : {}) }),
    timeZoneName: "short",
  }).format(date);
}

/** The reader's zone as a short name ("CET", "GMT+5:30"); "UTC" before hydration (the server's view). */
export function zoneName(local: boolean): string {
  if (!local) return "UTC";
  return new Intl.DateTimeFormat(undefined, { timeZoneName: "short" }).formatToParts(new Date()).find((part) => part.type === "timeZoneName")?.value ?? "local time";
}

/** True once running in the browser (after hydration), false on the server and during hydration. */
export function useHydrated(): boolean {
  return useSyncExternalStore(
    subscribeNever,
    () => true,
    () => false,
  );
}

export function LocalTime({ iso, withSeconds = false, fallback = "–" }: { iso: string | null; withSeconds?: boolean; fallback?: string }) {
  const hydrated = useHydrated();
  if (!iso) return <span className="text-slate-600">{fallback}</span>;
  const utc = utcLabel(iso, withSeconds);
  return (
    <time dateTime={iso} title={utc} className="whitespace-nowrap">
      {hydrated ? localLabel(iso, { withSeconds }) : utc}
    </time>
  );
}
