"use client";

import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";

/**
 * Keeps a submission's detail page live: it listens on the team's submission event stream (the one
 * the submissions list uses) and, when this submission's status changes, re-renders the page from
 * the server (router.refresh keeps what is typed in its forms). While it waits in the queue, other
 * teams' progress moves its position, so a "queue" event refreshes it too, at most once a second.
 */
const QUEUE_REFRESH_GAP_MS = 1000;

export function SubmissionLiveRefresh({ taskSlug, submissionId, status }: { taskSlug: string; submissionId: number; status: string }) {
  const router = useRouter();
  const [connected, setConnected] = useState(false);
  const statusRef = useRef(status);
  useEffect(() => {
    statusRef.current = status;
  }, [status]);

  useEffect(() => {
    let opened = false;
    let lastQueueRefresh = 0;
    const source = new EventSource(`/api/tasks/${encodeURIComponent(taskSlug)}/submissions/events`);
    source.onopen = () => {
      setConnected(true);
      // After a reconnect, catch up on whatever changed while the stream was down.
      if (opened) router.refresh();
      opened = true;
    };
    source.onerror = () => setConnected(false);
    source.addEventListener("submission", (event) => {
      const data = JSON.parse((event as MessageEvent<string>).data) as { submissionId?: number };
      if (data.submissionId === submissionId) router.refresh();
    });
    source.addEventListener("queue", () => {
      if (statusRef.current !== "QUEUED" || Date.now() - lastQueueRefresh < QUEUE_REFRESH_GAP_MS) return;
      lastQueueRefresh = Date.now();
      router.refresh();
    });
    return () => source.close();
  }, [taskSlug, submissionId, router]);

  return (
    <p className="text-xs text-slate-500" data-testid="live-indicator">
      <span className={`mr-1 inline-block h-2 w-2 rounded-full ${connected ? "bg-green-500" : "bg-slate-400"}`} aria-hidden="true" />
      {connected ? "Live: the status and scores update as they change" : "Connecting…"}
    </p>
  );
}
