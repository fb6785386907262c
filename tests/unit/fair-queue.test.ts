import { describe, expect, it } from "vitest";
import { BACKGROUND_LANE_OFFSET, MAX_PRIORITY, schedulingPriority, serviceOrder } from "@goat/contracts/fair-queue";

describe("the fair scheduling rule", () => {
  it("serves every team's k-th waiting submission before any team's (k+1)-th, in queueing order within a round", () => {
    const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second));
    // Team A queued three, then B one, then C two: A's ranks 1-3, B's 1, C's 1-2.
    const waiting = [
      { id: 1, team: "A", queuePriority: schedulingPriority(1, false), queuedAt: at(1) },
      { id: 2, team: "A", queuePriority: schedulingPriority(2, false), queuedAt: at(2) },
      { id: 3, team: "A", queuePriority: schedulingPriority(3, false), queuedAt: at(3) },
      { id: 4, team: "B", queuePriority: schedulingPriority(1, false), queuedAt: at(4) },
      { id: 5, team: "C", queuePriority: schedulingPriority(1, false), queuedAt: at(5) },
      { id: 6, team: "C", queuePriority: schedulingPriority(2, false), queuedAt: at(6) },
      { id: 7, team: "B", queuePriority: schedulingPriority(1, true), queuedAt: at(0) }, // a re-score, queued first
    ];
    expect(serviceOrder(waiting).map((row) => row.id)).toEqual([1, 4, 5, 2, 6, 3, 7]);
  });

  it("keeps the background lane behind any fresh rank and within BullMQ's priority range", () => {
    expect(schedulingPriority(BACKGROUND_LANE_OFFSET * 5, false)).toBeLessThan(schedulingPriority(1, true));
    expect(schedulingPriority(10 ** 9, true)).toBeLessThanOrEqual(MAX_PRIORITY);
    expect(schedulingPriority(0, false)).toBe(1);
  });
});
