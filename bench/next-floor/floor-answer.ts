/**
 * The constant answer both routes give: 100 board rows shaped like the leaderboard API's (about
 * 12 KB of JSON), so the floor is measured on an answer of that kind, not on an empty one.
 */
export const FLOOR_ANSWER = new TextEncoder().encode(
  JSON.stringify({
    board: "public",
    page: 1,
    pageSize: 100,
    entries: Array.from({ length: 100 }, (_, i) => ({ rank: i + 1, teamId: i + 1, team: `Team ${String(i).padStart(4, "0")}`, score: 1 - i / 1000, submissionCount: 50, submittedAt: "2026-11-29T12:00:00.000Z" })),
  }),
);
