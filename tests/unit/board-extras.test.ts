import { describe, expect, it } from "vitest";
import { describeMove, rankMove, shakeUp, type ShakeUpRow } from "@/lib/leaderboard/rank-movement";
import { placeReferenceRow, teamsAboveReference } from "@/lib/leaderboard/reference-rows";
import { scoreHistogram } from "@/lib/leaderboard/score-histogram";

// The pure rules of the leaderboard's extras (docs/ranking.md, "Rank changes and the shake-up").

describe("rankMove", () => {
  it.each([
    { now: 3, before: 7, move: { kind: "up", places: 4 }, words: "up 4 places since 00:00 UTC" },
    { now: 2, before: 1, move: { kind: "down", places: 1 }, words: "down 1 place since 00:00 UTC" },
    { now: 5, before: 5, move: { kind: "same" }, words: "unchanged since 00:00 UTC" },
    { now: 9, before: undefined, move: { kind: "new" }, words: "new since 00:00 UTC" },
  ])("rank $now after $before is $move.kind", ({ now, before, move, words }) => {
    expect(rankMove(now, before)).toEqual(move);
    expect(describeMove(rankMove(now, before), "since 00:00 UTC")).toBe(words);
  });
});

describe("shakeUp", () => {
  const row = (team: string, rank: number, publicRank?: number): ShakeUpRow => ({ team, rank, publicRank });
  it.each([
    { name: "nobody moved", rows: [row("A", 1, 1), row("B", 2, 2), row("C", 3, 3), row("D", 4, 4)], text: "The top 3 held; no team moved." },
    { name: "a move below the top", rows: [row("A", 1, 1), row("B", 2, 2), row("C", 3, 3), row("E", 4, 5), row("D", 5, 4)], text: "The top 3 held; largest move: E up 1 place." },
    { name: "a new leader from far down", rows: [row("X", 1, 12), row("A", 2, 1), row("B", 3, 2), row("C", 4, 3)], text: "The top 3 changed; largest move: X up 11 places." },
    { name: "a fall is a move too", rows: [row("B", 1, 2), row("C", 2, 3), row("D", 3, 4), row("A", 4, 1)], text: "The top 3 changed; largest move: A down 3 places." },
    { name: "equal moves go to the better private rank", rows: [row("B", 1, 3), row("A", 2, 1), row("C", 3, 2), row("D", 4, 6), row("E", 5, 4), row("F", 6, 5)], text: "The top 3 changed; largest move: B up 2 places." },
    { name: "fewer teams than the top", rows: [row("B", 1, 2), row("A", 2, 1)], text: "The top 2 changed; largest move: B up 1 place." },
    { name: "a team not on the public board is new, not a move", rows: [row("N", 1, undefined), row("A", 2, 1)], text: "The top 2 changed; largest move: A down 1 place." },
    { name: "an empty board", rows: [], text: "No team is ranked yet; no team moved." },
  ])("$name", ({ rows, text }) => {
    expect(shakeUp(rows).text).toBe(text);
  });
});

describe("reference rows", () => {
  const reference = { label: "Reference: baseline", score: 0.7, submissionId: 1 };
  const rows = [{ score: 0.9 }, { score: 0.7 }, { score: 0.5 }];
  const kinds = (placed: ReturnType<typeof placeReferenceRow>) => placed.map((each) => (each.kind === "team" ? (each.entry as { score: number }).score : "ref"));
  it.each([
    { name: "after the teams that tie it (higher is better)", direction: "MAXIMIZE" as const, rows, endsBoard: false, order: [0.9, 0.7, "ref", 0.5] },
    { name: "below every row, on the board's last page", direction: "MAXIMIZE" as const, rows: rows.slice(0, 2), endsBoard: true, order: [0.9, 0.7, "ref"] },
    { name: "below every row, left for a later page", direction: "MAXIMIZE" as const, rows: rows.slice(0, 2), endsBoard: false, order: [0.9, 0.7] },
    { name: "lower is better", direction: "MINIMIZE" as const, rows: [{ score: 0.5 }, { score: 0.7 }, { score: 0.9 }], endsBoard: true, order: [0.5, 0.7, "ref", 0.9] },
    { name: "above every row", direction: "MAXIMIZE" as const, rows: [{ score: 0.6 }], endsBoard: true, order: ["ref", 0.6] },
  ])("$name", ({ direction, rows: page, endsBoard, order }) => {
    expect(kinds(placeReferenceRow(page, reference, direction, endsBoard))).toEqual(order);
  });
  it("counts the teams above it, ties included", () => {
    expect(teamsAboveReference([0.9, 0.7, 0.5], reference, "MAXIMIZE")).toBe(2);
    expect(teamsAboveReference([0.9, 0.7, 0.5], reference, "MINIMIZE")).toBe(2);
    expect(placeReferenceRow(rows, null, "MAXIMIZE", true)).toHaveLength(3);
  });
});

describe("scoreHistogram", () => {
  it.each([
    { name: "no teams", scores: [], own: null, teams: [], ownBin: -1 },
    { name: "one score", scores: [0.8], own: 0.8, teams: [1], ownBin: 0 },
    { name: "equal scores share one bin", scores: [0.5, 0.5, 0.5], own: 0.5, teams: [3], ownBin: 0 },
    { name: "square root of the teams, the top score in the last bin", scores: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.9], own: 0.9, teams: [3, 3, 3], ownBin: 2 },
    { name: "a caller without a score marks nothing", scores: [0, 1], own: null, teams: [1, 1], ownBin: -1 },
  ])("$name", ({ scores, own, teams, ownBin }) => {
    const bins = scoreHistogram(scores, own);
    expect(bins.map((bin) => bin.teams)).toEqual(teams);
    expect(bins.findIndex((bin) => bin.own)).toBe(ownBin);
  });
  it("never draws more than 12 bars", () => {
    const bins = scoreHistogram(Array.from({ length: 1000 }, (_, i) => i / 1000));
    expect(bins).toHaveLength(12);
    expect(bins.reduce((sum, bin) => sum + bin.teams, 0)).toBe(1000);
    expect(bins[0].from).toBe(0);
    expect(bins[11].to).toBeCloseTo(0.999);
  });
});
