import { describe, expect, it } from "vitest";
import { intervalsOverlap, markStatisticalTier, statisticalTierSize, type ScoreInterval } from "@/lib/leaderboard/uncertainty";

const iv = (low: number, high: number): ScoreInterval => ({ low, high });

describe("intervalsOverlap", () => {
  it.each([
    [iv(0.8, 0.9), iv(0.85, 0.95), true],
    [iv(0.8, 0.9), iv(0.9, 1.0), true], // touching ends
    [iv(0.8, 0.9), iv(0.9000001, 1.0), false],
    [iv(0.5, 0.6), iv(0.1, 0.2), false],
    [iv(0.1, 0.9), iv(0.4, 0.5), true], // one inside the other
    [iv(1, 1), iv(1, 1), true],
  ])("%o and %o overlap: %s", (a, b, expected) => {
    expect(intervalsOverlap(a, b)).toBe(expected);
    expect(intervalsOverlap(b, a)).toBe(expected);
  });
});

describe("markStatisticalTier", () => {
  // Boards are ranked best first, in either direction; the rule only looks at overlap with row 0.
  it.each<[string, (ScoreInterval | null)[], boolean[]]>([
    ["a clear leader is alone in its tier", [iv(0.95, 0.97), iv(0.90, 0.93), iv(0.80, 0.85)], [true, false, false]],
    ["the teams overlapping the leader join it", [iv(0.90, 0.94), iv(0.89, 0.93), iv(0.905, 0.915), iv(0.85, 0.899)], [true, true, true, false]],
    ["a team below a non-tied one still joins when its interval is wide", [iv(0.90, 0.94), iv(0.88, 0.895), iv(0.70, 0.95)], [true, false, true]],
    ["MINIMIZE (rmse): lower first, the same overlap rule", [iv(0.10, 0.14), iv(0.13, 0.20), iv(0.15, 0.22)], [true, true, false]],
    ["every team exact and equal", [iv(1, 1), iv(1, 1), iv(0.9, 0.9)], [true, true, false]],
    ["a leader without an interval: no tier", [null, iv(0.8, 0.9)], [false, false]],
    ["a team without an interval is never in the tier", [iv(0.8, 0.9), null, iv(0.85, 0.86)], [true, false, true]],
    ["an empty board", [], []],
  ])("%s", (_name, intervals, expected) => {
    const board = intervals.map((interval, i) => ({ team: `t${i}`, interval }));
    const marked = markStatisticalTier(board);
    expect(marked.map((entry) => entry.statisticallyTied)).toEqual(expected);
    expect(marked.map((entry) => entry.team)).toEqual(board.map((entry) => entry.team));
    expect(statisticalTierSize(marked)).toBe(expected.filter(Boolean).length);
  });
});
