import { afterEach, describe, expect, it, vi } from "vitest";
import { createLogger } from "@goat/contracts/logger";
import { ParticipantFault, PlatformFault } from "../../worker/src/faults";
import { SandboxBreaker } from "../../worker/src/sandbox-breaker";

/** A breaker whose queue consumer and sandbox check are recorded; `checks` decide each check's outcome in turn. */
function breakerWith(checks: boolean[], faultLimit = 3) {
  const events: string[] = [];
  const breaker = new SandboxBreaker({
    faultLimit,
    firstCheckDelayMs: 20,
    maxCheckDelayMs: 80,
    checkSandbox: async () => {
      const passes = checks.shift() ?? true;
      events.push(passes ? "check passed" : "check failed");
      if (!passes) throw new PlatformFault("SANDBOX_START_FAILED", "sandbox process ended before it was ready (exit code 3)");
    },
    pause: async () => void events.push("pause"),
    resume: async () => void events.push("resume"),
    onChange: (pausedFor) => events.push(pausedFor === undefined ? "resumed" : "paused"),
    log: createLogger("worker", { test: true }).child({}, { level: "silent" }),
  });
  return { breaker, events };
}

const startFailed = () => new PlatformFault("SANDBOX_START_FAILED", "sandbox process ended before it was ready (exit code 3)");
afterEach(() => {
  vi.useRealTimers();
});

describe("the sandbox breaker (worker/src/sandbox-breaker.ts)", () => {
  it("counts a host that fails a known-good model after a model's crash (HOST_FAULT) as it counts a sandbox that cannot start", () => {
    const { breaker, events } = breakerWith([]);
    const hostFault = () => new PlatformFault("HOST_FAULT", "the model's evaluation ended with CRASHED, and a known-good model then failed on this worker too");
    breaker.evaluationFailed(hostFault());
    breaker.evaluationFailed(hostFault());
    expect(breaker.pauseReason).toBeUndefined();
    breaker.evaluationFailed(hostFault());
    expect(breaker.pauseReason).toBe("3 evaluations in a row failed a known-good model after the model's (last: HOST_FAULT)");
    expect(events).toEqual(["paused", "pause"]);
    breaker.close();
  });

  it("pauses after the limit of sandbox start faults in a row, checks with doubling waits, and resumes on the first check that passes", async () => {
    vi.useFakeTimers();
    const { breaker, events } = breakerWith([false, false, false, true]);
    breaker.evaluationFailed(startFailed());
    breaker.evaluationFailed(new PlatformFault("SANDBOX_START_TIMEOUT", "sandbox process not ready after 60000 ms"));
    expect(breaker.pauseReason).toBeUndefined();
    breaker.evaluationFailed(new PlatformFault("SANDBOX_LOST", "the sandbox launcher died"));
    expect(breaker.pauseReason).toBe("3 evaluations in a row could not start a sandbox process (last: SANDBOX_LOST)");
    expect(events).toEqual(["paused", "pause"]);
    // The checks come 20, 40, 80 and 80 ms (the cap) after each other, not sooner.
    const checks = () => events.filter((event) => event.startsWith("check")).length;
    for (const [i, wait] of [20, 40, 80, 80].entries()) {
      await vi.advanceTimersByTimeAsync(wait - 1);
      expect(checks()).toBe(i);
      await vi.advanceTimersByTimeAsync(1);
      expect(checks()).toBe(i + 1);
    }
    expect(events).toEqual(["paused", "pause", "check failed", "check failed", "check failed", "check passed", "resumed", "resume"]);
    expect(breaker.pauseReason).toBeUndefined();
    breaker.close();
  });

  it("counts only sandbox start faults, and a sandbox that started (scored, or the model's fault) starts the count again", () => {
    const { breaker } = breakerWith([], 2);
    for (let i = 0; i < 5; i++) {
      breaker.evaluationFailed(new ParticipantFault("CRASHED", "The model's process crashed."));
      breaker.evaluationFailed(new PlatformFault("DATASET_UNAVAILABLE", "The test set is missing"));
      breaker.evaluationFailed(new PlatformFault("SANDBOX_PROTOCOL", "the sandbox's outputs do not add up"));
      breaker.evaluationFailed(new Error("connection refused"));
    }
    expect(breaker.pauseReason).toBeUndefined();
    breaker.evaluationFailed(startFailed());
    breaker.sandboxStarted();
    breaker.evaluationFailed(startFailed());
    expect(breaker.pauseReason).toBeUndefined();
    breaker.evaluationFailed(startFailed());
    expect(breaker.pauseReason).toMatch(/^2 evaluations in a row/);
    breaker.close();
  });

  it("stops checking once closed", async () => {
    vi.useFakeTimers();
    const { breaker, events } = breakerWith([false, false, false]);
    for (let i = 0; i < 3; i++) breaker.evaluationFailed(startFailed());
    breaker.close();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(events).toEqual(["paused", "pause"]);
  });
});
