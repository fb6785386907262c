import { describe, expect, it } from "vitest";
import { publicPrivateSplit } from "@goat/contracts/dataset/split";

function isAscending(rows: Uint32Array): boolean {
  return rows.every((v, i) => i === 0 || rows[i - 1] < v);
}

describe("publicPrivateSplit", () => {
  it("gives round(rows * fraction) public rows, the rest private, disjoint, covering every row, each ascending", () => {
    const { publicRows, privateRows } = publicPrivateSplit(1000, 0.3, 42);
    expect(publicRows.length).toBe(300);
    expect(privateRows.length).toBe(700);
    expect(isAscending(publicRows)).toBe(true);
    expect(isAscending(privateRows)).toBe(true);
    const all = [...publicRows, ...privateRows].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it("rounds half up: 5 rows at 0.5 gives 3 public", () => {
    expect(publicPrivateSplit(5, 0.5, 1).publicRows.length).toBe(3);
    expect(publicPrivateSplit(7, 0.33, 1).publicRows.length).toBe(2);
  });

  it("is deterministic for the same rows, fraction and seed", () => {
    expect(publicPrivateSplit(500, 0.4, 7)).toEqual(publicPrivateSplit(500, 0.4, 7));
  });

  it("pins the split of a small task, since changing it would reshuffle every existing task", () => {
    const { publicRows, privateRows } = publicPrivateSplit(10, 0.5, 1);
    expect(Array.from(publicRows)).toEqual(PINNED_PUBLIC);
    expect(privateRows.length).toBe(5);
  });

  it("differs between seeds", () => {
    expect(publicPrivateSplit(500, 0.4, 7).publicRows).not.toEqual(publicPrivateSplit(500, 0.4, 8).publicRows);
  });

  it("puts every row in public at fraction 1 and in private at fraction 0", () => {
    const allPublic = publicPrivateSplit(20, 1, 3);
    expect(Array.from(allPublic.publicRows)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(allPublic.privateRows.length).toBe(0);
    const allPrivate = publicPrivateSplit(20, 0, 3);
    expect(allPrivate.publicRows.length).toBe(0);
    expect(Array.from(allPrivate.privateRows)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it("spreads public rows over the whole range rather than taking a prefix", () => {
    const { publicRows } = publicPrivateSplit(10_000, 0.5, 123);
    const inFirstHalf = publicRows.filter((r) => r < 5000).length;
    expect(inFirstHalf).toBeGreaterThan(2300);
    expect(inFirstHalf).toBeLessThan(2700);
  });

  it("handles zero rows, and refuses fractions outside [0, 1] and non-integer inputs", () => {
    expect(publicPrivateSplit(0, 0.5, 1)).toEqual({ publicRows: new Uint32Array(), privateRows: new Uint32Array() });
    expect(() => publicPrivateSplit(10, 1.5, 1)).toThrow(RangeError);
    expect(() => publicPrivateSplit(10, Number.NaN, 1)).toThrow(RangeError);
    expect(() => publicPrivateSplit(10.5, 0.5, 1)).toThrow(RangeError);
    expect(() => publicPrivateSplit(10, 0.5, 0.5)).toThrow(RangeError);
  });
});

// mulberry32(1) + Fisher-Yates, checked against the reference mulberry32 (bryc/code, PRNGs.md).
const PINNED_PUBLIC = [1, 2, 3, 7, 8];
