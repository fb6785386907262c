"use client";

import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";

/** Re-renders the leaderboard page (router.refresh) whenever a submission of the task is scored. */
export function LeaderboardLive({ taskSlug }: { taskSlug: string }) {
  const router = useRouter();
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const source = new EventSource(`/api/tasks/${encodeURIComponent(taskSlug)}/leaderboard/events`);
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(false);
    source.addEventListener("scored", () => {
      // Several results in a burst cause one refresh.
      clearTimeout(timer);
      timer = setTimeout(() => router.refresh(), 300);
    });
    return () => {
      clearTimeout(timer);
      source.close();
    };
  }, [taskSlug, router]);
  return (
    <p className="text-xs text-slate-500" data-testid="live-indicator">
      <span className={`mr-1 inline-block h-2 w-2 rounded-full ${connected ? "bg-green-500" : "bg-slate-400"}`} />
      {connected ? "Live" : "Connecting…"}
    </p>
  );
}
