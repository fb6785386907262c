"use client";

import { useCallback, useEffect, useState } from "react";
import { RelativeTime } from "@/components/site/relative-time";
import type { AnnouncementView } from "@/lib/tasks/announcements";

/**
 * The organisers' announcements on a task page, kept live: the server pushes "posted" or
 * "withdrawn" (ids only) and the list is read again from the JSON route. A reconnect reads it
 * again too, so nothing posted while the stream was down is missed.
 */
export function AnnouncementFeed({ taskSlug, initial }: { taskSlug: string; initial: AnnouncementView[] }) {
  const [announcements, setAnnouncements] = useState(initial);

  const refetch = useCallback(async () => {
    const response = await fetch(`/api/tasks/${encodeURIComponent(taskSlug)}/announcements`, { cache: "no-store" });
    if (response.ok) setAnnouncements(((await response.json()) as { announcements: AnnouncementView[] }).announcements);
  }, [taskSlug]);

  useEffect(() => {
    const source = new EventSource(`/api/tasks/${encodeURIComponent(taskSlug)}/announcements/events`);
    let opened = false;
    source.onopen = () => {
      if (opened) void refetch();
      opened = true;
    };
    source.addEventListener("announcement", () => void refetch());
    return () => source.close();
  }, [taskSlug, refetch]);

  // An empty region stays in the page so screen readers announce the first one when it arrives.
  return (
    <section aria-label="Announcements" aria-live="polite" data-testid="announcements" className={announcements.length ? "space-y-2" : ""}>
      {announcements.map((announcement) => (
        <div key={announcement.id} className="rounded-md border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-950" data-testid="announcement">
          <p className="whitespace-pre-wrap break-words">{announcement.body}</p>
          <p className="mt-1 text-xs text-amber-800">
            {announcement.task ? "Announcement" : "Event announcement"} · <RelativeTime iso={announcement.createdAt} />
          </p>
        </div>
      ))}
    </section>
  );
}
