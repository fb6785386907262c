"use client";

import { useSyncExternalStore } from "react";
import type { ViewerUser } from "@/lib/leaderboard/viewer";

/**
 * Who is signed in, as the browser learned it after the page loaded: a kept leaderboard page
 * (lib/leaderboard/page-html-cache.ts) is the same HTML for every signed-in reader, so its header's
 * account links wait for the reader's own part of the board (components/tasks/leaderboard-viewer.tsx),
 * which publishes the user here. Undefined until then.
 */
let known: { user: ViewerUser | null } | undefined;
const listeners = new Set<() => void>();

export function publishSignedInUser(user: ViewerUser | null): void {
  known = { user };
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useSignedInUser(): { user: ViewerUser | null } | undefined {
  return useSyncExternalStore(
    subscribe,
    () => known,
    () => undefined,
  );
}
