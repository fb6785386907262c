/** The URL of the reader's own part of a board (lib/leaderboard/viewer.ts): the page preloads it, the browser asks it. No imports: the server's page and the browser's component both use it. */
export function leaderboardViewerUrl(taskSlug: string, board: "public" | "private"): string {
  return `/api/tasks/${encodeURIComponent(taskSlug)}/leaderboard/viewer?board=${board}`;
}
