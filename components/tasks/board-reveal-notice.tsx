"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import type { BoardRevealEvent } from "@/lib/events/board-reveal-events";

/**
 * The leaderboard page hears a reveal (or a hide) of its task's private board through its one
 * leaderboard stream (the table owns the EventSource and re-dispatches the event on `window`, so
 * no second stream is opened). The page's server part is then rendered again in place
 * (router.refresh: the Public/Private tabs appear, a private board falls back to the public one),
 * and this notice says what happened. It lives outside the table, which is re-mounted by the
 * refresh.
 */
export const BOARD_REVEAL_DOM_EVENT = "goat:board-reveal";

export function announceBoardReveal(event: BoardRevealEvent): void {
  window.dispatchEvent(new CustomEvent<BoardRevealEvent>(BOARD_REVEAL_DOM_EVENT, { detail: event }));
}

export function BoardRevealNotice({ taskSlug }: { taskSlug: string }) {
  const router = useRouter();
  const [event, setEvent] = useState<BoardRevealEvent | null>(null);

  useEffect(() => {
    const listener = (message: Event) => {
      const detail = (message as CustomEvent<BoardRevealEvent>).detail;
      if (detail.taskSlug !== taskSlug) return;
      setEvent(detail);
      router.refresh();
    };
    window.addEventListener(BOARD_REVEAL_DOM_EVENT, listener);
    return () => window.removeEventListener(BOARD_REVEAL_DOM_EVENT, listener);
  }, [taskSlug, router]);

  if (!event) return null;
  return (
    <div role="status" className="rounded-md border border-indigo-300 bg-indigo-50 px-3 py-2 text-sm text-indigo-900" data-testid="reveal-notice">
      {event.revealed ? (
        <>
          The organisers have just revealed the private leaderboard.{" "}
          <Link href={`/tasks/${taskSlug}/leaderboard?board=private`} className="font-medium underline">
            See the final ranking
          </Link>
        </>
      ) : (
        <>The organisers have hidden the private leaderboard again; the public board is shown.</>
      )}
    </div>
  );
}
