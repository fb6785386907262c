import { describe, expect, it } from "vitest";
import { MAX_START_STRETCH, runQueueWaitMs, startDeadlineMs } from "../../worker/src/sandbox/start-deadline";

// A sandbox child's start deadline: its timeout, plus the time it waited for a CPU, within a bound
// (the real starved and stuck children: tests/integration/sandbox.test.ts).

describe("a sandbox child's start deadline", () => {
  it("adds the time the child waited for a CPU to its timeout, up to MAX_START_STRETCH times the timeout", () => {
    expect(startDeadlineMs(30_000, 0)).toBe(30_000);
    expect(startDeadlineMs(30_000, 12_500)).toBe(42_500);
    expect(startDeadlineMs(30_000, 500_000)).toBe(30_000 * MAX_START_STRETCH);
    expect(startDeadlineMs(30_000, -5)).toBe(30_000); // a reading that went backwards adds nothing
  });

  it("reads the run-queue wait from /proc/<pid>/schedstat (run time, wait time, timeslices; nanoseconds)", () => {
    const files: Record<string, string> = { "/proc/42/schedstat": "3318814 1250000000 17\n" };
    const read = (file: string) => {
      if (!(file in files)) throw new Error(`ENOENT: ${file}`);
      return files[file];
    };
    expect(runQueueWaitMs(42, read)).toBe(1250);
    expect(runQueueWaitMs(43, read)).toBeUndefined(); // gone
    expect(runQueueWaitMs(undefined, read)).toBeUndefined(); // not spawned yet
    expect(runQueueWaitMs(42, () => "garbage")).toBeUndefined();
    // This process's own, as the worker reads its children's.
    expect(runQueueWaitMs(process.pid)).toBeGreaterThanOrEqual(0);
  });
});
