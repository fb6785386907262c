import { describe, expect, it } from "vitest";
import { z } from "zod";
import { scoreDomain } from "@/components/charts/score-domain";
import { formatAgo } from "@/components/site/relative-time";
import { humanTimes } from "@/components/tasks/upload-form";
import { describeIssue } from "@/lib/admin/plain-issues";
import { everyMinute } from "@/lib/admin/throughput";
import { workerHealth } from "@/lib/admin/worker-health";
import { taskConfigSchema } from "@/lib/tasks/admin";

describe("score axis", () => {
  it("never goes past 1 nor below 0 for accuracy, however close the scores are to 1", () => {
    expect(scoreDomain([0.97, 0.99, 1], "accuracy")).toEqual([expect.closeTo(0.967, 3), 1]);
    expect(scoreDomain([0.001], "macro_f1")[0]).toBe(0);
  });
  it("keeps errors at or above 0 and R² at or below 1, with room around the data", () => {
    expect(scoreDomain([0.01, 0.5], "mse")[0]).toBe(0);
    expect(scoreDomain([0.2, 0.99], "r2")[1]).toBe(1);
    const [low, high] = scoreDomain([10, 20], "mae");
    expect(low).toBe(9);
    expect(high).toBe(21);
  });
});

describe("relative times", () => {
  it("reads a moment up to a minute ahead of the clock (skew) as just now, never 'in N s'", () => {
    const now = Date.parse("2026-11-29T10:00:00Z");
    expect(formatAgo("2026-11-29T10:00:30Z", now)).toBe("just now");
    expect(formatAgo("2026-11-29T09:58:00Z", now)).toBe("2 min ago");
    expect(formatAgo("2026-11-29T12:00:00Z", now)).toBe("in 2 h");
  });
});

describe("task editor messages", () => {
  const messages = (input: unknown) => {
    const parsed = taskConfigSchema.safeParse(input);
    expect(parsed.success).toBe(false);
    return Object.fromEntries(parsed.error!.issues.map((issue) => [issue.path.join("."), describeIssue(issue)]));
  };

  it("say what to type instead of zod's type names", () => {
    const said = messages({ slug: "Bad Slug", kind: "CLASSIFICATION", inputSpec: [{ name: "x", dtype: "float32", shape: [-1, 4] }], outputSpec: [{ name: "y", dtype: "float32", shape: [-1, 2] }], rankMetric: "accuracy", publicFraction: 2 });
    expect(said.slug).toBe("Use only lower-case letters, digits, - and _.");
    expect(said.title).toBe("Required: fill this in.");
    expect(said.publicFraction).toBe("Enter at most 1.");
    for (const text of Object.values(said)) expect(text).not.toMatch(/Invalid input|expected \w+, received/);
  });

  it("name the entry inside a JSON field and speak in the form's units", () => {
    const said = messages({ slug: "ok", title: "t", kind: "CLASSIFICATION", inputSpec: [{ name: "x", dtype: "float99", shape: [-1, 4] }], outputSpec: [{ name: "y", dtype: "float32", shape: [-1, 2] }], rankMetric: "accuracy", maxModelBytes: 10 });
    expect(said["inputSpec.0.dtype"]).toMatch(/^entry 1, dtype: choose one of: float32/);
    expect(said.maxModelBytes).toBe("Enter a size in MB between 0.001 and 2048.");
  });

  it("pass our own messages through as sentences", () => {
    const issue = z.string().refine(() => false, "must be after opensAt").safeParse("x").error!.issues[0];
    expect(describeIssue(issue)).toBe("Must be after opensAt.");
  });
});

describe("evaluations per minute", () => {
  it("lists every minute of the window, a quiet minute as zero with no average", () => {
    const from = new Date("2026-11-29T10:00:30Z");
    const to = new Date("2026-11-29T10:04:10Z");
    const rows = everyMinute([{ minute: new Date("2026-11-29T10:02:00Z"), scored: 3n, failed: 1n, avg_ms: 120.4 }], from, to);
    expect(rows.map((row) => row.minute.slice(11, 16))).toEqual(["10:00", "10:01", "10:02", "10:03", "10:04"]);
    expect(rows[2]).toEqual({ minute: "2026-11-29T10:02:00.000Z", scored: 3, failed: 1, avgEvalMs: 120 });
    expect(rows[1]).toEqual({ minute: "2026-11-29T10:01:00.000Z", scored: 0, failed: 0, avgEvalMs: null });
  });
});

describe("worker health on the dashboard", () => {
  it("shows a worker as draining as soon as a drain is asked for, before its next heartbeat", () => {
    const now = new Date("2026-11-29T10:00:00Z");
    const row = { state: "ONLINE" as const, lastHeartbeatAt: new Date("2026-11-29T09:59:59Z"), heartbeatIntervalMs: 5_000 };
    expect(workerHealth(row, now)).toBe("online");
    expect(workerHealth({ ...row, drainRequestedAt: now }, now)).toBe("draining");
    expect(workerHealth({ ...row, state: "STOPPED", drainRequestedAt: now }, now)).toBe("stopped");
  });

  it("shows a worker paused for its sandbox as paused while it heartbeats, draining once a drain is asked for, and lost when silent", () => {
    const now = new Date("2026-11-29T10:00:00Z");
    const row = { state: "PAUSED" as const, lastHeartbeatAt: new Date("2026-11-29T09:59:59Z"), heartbeatIntervalMs: 5_000 };
    expect(workerHealth(row, now)).toBe("paused");
    expect(workerHealth({ ...row, drainRequestedAt: now }, now)).toBe("draining");
    expect(workerHealth({ ...row, lastHeartbeatAt: new Date("2026-11-29T09:58:00Z") }, now)).toBe("lost");
  });
});

describe("refusal messages", () => {
  it("say the quota's reset as a human date and time with its zone, not ISO", () => {
    const said = humanTimes('Your team has used all 20 submissions for "task2" today. The quota resets at 2026-11-30T00:00:00.000Z.');
    expect(said).not.toContain("2026-11-30T00:00:00.000Z");
    expect(said).toMatch(/The quota resets at .*2026.*(UTC|GMT|[A-Z]{2,5})\.$/);
  });
});
