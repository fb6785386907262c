import { describe, expect, it } from "vitest";
import { assignRanks, patchRankedRows, rankEntries, sameScore, scoreKey } from "@/lib/leaderboard/ranking";

// The browser patches a live page with the same ranking rule as the server.
type Row = { teamId: number; score: number; submittedAt: string; submissionId: number; rank: number };
const row = (teamId: number, score: number, minute: number, rank = 0): Row => ({
  teamId,
  score,
  submittedAt: new Date(Date.UTC(2026, 10, 1, 0, minute)).toISOString(),
  submissionId: teamId * 100 + minute,
  rank,
});

describe("patchRankedRows", () => {
  const page = assignRanks([row(1, 0.9, 1), row(2, 0.8, 2), row(3, 0.8, 3), row(4, 0.5, 4)]);

  it("moves an improved team to its place on the first page and re-ranks, equal scores sharing a rank", () => {
    const patched = patchRankedRows(page, row(4, 0.8, 1), { direction: "MAXIMIZE", topOfBoard: true, pageSize: 100 });
    expect(patched.map((entry) => [entry.teamId, entry.rank])).toEqual([
      [1, 1],
      [4, 2],
      [2, 2],
      [3, 2],
    ]);
  });

  it("adds a newcomer and drops the row pushed past the page size", () => {
    const patched = patchRankedRows(page, row(5, 0.95, 9), { direction: "MAXIMIZE", topOfBoard: true, pageSize: 4 });
    expect(patched.map((entry) => [entry.teamId, entry.rank])).toEqual([
      [5, 1],
      [1, 2],
      [2, 3],
      [3, 3],
    ]);
  });

  it("leaves a full first page alone when the newcomer ranks below it", () => {
    const patched = patchRankedRows(page, row(6, 0.1, 9), { direction: "MAXIMIZE", topOfBoard: true, pageSize: 4 });
    expect(patched.map((entry) => entry.teamId)).toEqual([1, 2, 3, 4]);
  });

  it("ranks lower scores first when the metric is minimised", () => {
    const errors = assignRanks([row(1, 0.1, 1), row(2, 0.3, 2)]);
    const patched = patchRankedRows(errors, row(3, 0.2, 3), { direction: "MINIMIZE", topOfBoard: true, pageSize: 100 });
    expect(patched.map((entry) => [entry.teamId, entry.rank])).toEqual([
      [1, 1],
      [3, 2],
      [2, 3],
    ]);
  });

  it("on a later page or a search, replaces the team's row in place with the server's rank", () => {
    const later = assignRanks([row(7, 0.4, 1), row(8, 0.3, 2)]).map((entry) => ({ ...entry, rank: entry.rank + 100 }));
    const changed = { ...row(8, 0.99, 5), rank: 1 };
    expect(patchRankedRows(later, changed, { direction: "MAXIMIZE", topOfBoard: false, pageSize: 100 })).toEqual([later[0], changed]);
    expect(patchRankedRows(later, { ...row(9, 0.2, 5), rank: 150 }, { direction: "MAXIMIZE", topOfBoard: false, pageSize: 100 })).toEqual(later);
  });
});

// docs/ranking.md "Ties": scores compare rounded to 9 decimal places; equal scores share a rank
// ("1, 1, 3"); the earlier submission is listed first among them; in both directions.
describe("the tie rule", () => {
  const cases: { name: string; direction: "MAXIMIZE" | "MINIMIZE"; rows: [team: number, score: number, minute: number][]; expected: [team: number, rank: number][] }[] = [
    { name: "equal scores share a rank and the next rank skips (1, 1, 3)", direction: "MAXIMIZE", rows: [[1, 0.9, 5], [2, 0.9, 3], [3, 0.8, 1]], expected: [[2, 1], [1, 1], [3, 3]] },
    { name: "0.1 + 0.2 and 0.3 are equal", direction: "MAXIMIZE", rows: [[1, 0.1 + 0.2, 2], [2, 0.3, 1], [3, 0.2, 0]], expected: [[2, 1], [1, 1], [3, 3]] },
    { name: "scores 1e-10 apart are equal, 1e-8 apart are not", direction: "MAXIMIZE", rows: [[1, 0.5 + 1e-10, 2], [2, 0.5, 1], [3, 0.5 - 1e-8, 0]], expected: [[2, 1], [1, 1], [3, 3]] },
    { name: "MINIMIZE: the lowest first, equal errors share a rank", direction: "MINIMIZE", rows: [[1, 0.25, 4], [2, 0.1, 9], [3, 0.25, 2], [4, 0.7, 0]], expected: [[2, 1], [3, 2], [1, 2], [4, 4]] },
    { name: "MINIMIZE: near-equal floats tie, the earliest listed first", direction: "MINIMIZE", rows: [[1, 1.1 + 2.2, 7], [2, 3.3, 8]], expected: [[1, 1], [2, 1]] },
    { name: "three-way tie then a lower score (1, 1, 1, 4)", direction: "MAXIMIZE", rows: [[1, 0.7, 3], [2, 0.7, 2], [3, 0.7, 1], [4, 0.6, 0]], expected: [[3, 1], [2, 1], [1, 1], [4, 4]] },
  ];
  it.each(cases)("$name", ({ direction, rows, expected }) => {
    const ranked = rankEntries(direction, rows.map(([team, score, minute]) => row(team, score, minute)));
    expect(ranked.map((entry) => [entry.teamId, entry.rank])).toEqual(expected);
  });

  it.each([
    [0.1 + 0.2, 0.3, true],
    [1 / 3, 0.333333333, true],
    [1 / 3, 0.333333332, false],
    [-0.1 - 0.2, -0.3, true],
    [12345.678901234, 12345.6789012341, true],
    [0.999999999, 1, false],
  ])("sameScore(%s, %s) is %s", (a, b, equal) => {
    expect(sameScore(a, b)).toBe(equal);
    expect(scoreKey(a) === scoreKey(b)).toBe(equal);
  });
});
