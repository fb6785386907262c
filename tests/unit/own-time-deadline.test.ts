import { describe, expect, it } from "vitest";
import { PlatformFault, ParticipantFault } from "../../worker/src/faults";
import { timeLimitFault } from "../../worker/src/sandbox/limit-watch";
import { MAX_STRETCH, runQueueWaitMs, stretchedDeadlineMs } from "../../worker/src/sandbox/own-time-deadline";

// A sandbox child's deadlines (its start, its evaluation's time limit): the timeout, plus the time
// it waited for a CPU, within a bound (the real starved and stuck children, and a starved model:
// tests/integration/sandbox.test.ts).

describe("a sandbox child's deadlines in its own time", () => {
  it("adds the time the child waited for a CPU to its timeout, up to MAX_STRETCH times the timeout", () => {
    expect(stretchedDeadlineMs(30_000, 0)).toBe(30_000);
    expect(stretchedDeadlineMs(30_000, 12_500)).toBe(42_500);
    expect(stretchedDeadlineMs(30_000, 500_000)).toBe(30_000 * MAX_STRETCH);
    expect(stretchedDeadlineMs(30_000, -5)).toBe(30_000); // a reading that went backwards adds nothing
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

  it("ends an evaluation at its deadline as the model's TIMEOUT when it had its whole limit of its own, else as the host's overload", () => {
    const limits = { timeoutMs: 60_000 };
    // A model that computed past its limit on a free CPU, or past it with some waiting.
    const slow = timeLimitFault(limits, { elapsedMs: 60_004, waitedMs: 3 });
    expect(slow).toBeInstanceOf(ParticipantFault);
    expect((slow as ParticipantFault).code).toBe("TIMEOUT");
    expect((slow as ParticipantFault).displayMessage).toBe("The model took longer than the 60 s limit");
    expect(timeLimitFault(limits, { elapsedMs: 150_000, waitedMs: 90_000 })).toBeInstanceOf(ParticipantFault);
    // Four times its limit on the wall, most of it waiting for a CPU: the platform's, retried at no quota.
    const starved = timeLimitFault(limits, { elapsedMs: 240_000, waitedMs: 200_000 });
    expect(starved).toBeInstanceOf(PlatformFault);
    expect((starved as PlatformFault).code).toBe("HOST_OVERLOADED");
    expect((starved as PlatformFault).message).toBe(
      "the model had run 40000 ms of its 60000 ms when 240000 ms had passed (4 x its limit), 200000 ms of them waiting for a CPU: this host is overloaded (more workers or work than cores)",
    );
  });
});
