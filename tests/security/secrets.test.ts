import { afterEach, describe, expect, it, vi } from "vitest";

// Attack: the deployment kept .env.example's NEXTAUTH_SECRET, so anyone can sign an organiser's
// session cookie with it. In production the server must refuse to start with a missing, short or
// placeholder session secret, and the same for METRICS_TOKEN when it is set.
const { env, resetEnvForTests } = await import("@/lib/env");
const { register } = await import("@/instrumentation");

const saved = { NODE_ENV: process.env.NODE_ENV, NEXTAUTH_SECRET: process.env.NEXTAUTH_SECRET, METRICS_TOKEN: process.env.METRICS_TOKEN, NEXT_RUNTIME: process.env.NEXT_RUNTIME, NEXT_PHASE: process.env.NEXT_PHASE };
const processEnv = process.env as Record<string, string | undefined>;
const STRONG = "k3Yq8v1Zr0Pw5Ls7Nd2Hb6Mx9Tc4Fg0Ja8Ue3Wi7So1";

function setEnv(values: Record<string, string | undefined>) {
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) delete processEnv[key];
    else processEnv[key] = value;
  }
  resetEnvForTests();
}

/** Runs the real start-up hook; process.exit is caught so the test process lives on. */
async function startUp(): Promise<{ exitCode: number | undefined; log: string }> {
  const lines: string[] = [];
  const error = vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void lines.push(args.join(" ")));
  const exit = vi.spyOn(process, "exit").mockImplementation(((code?: number) => {
    throw Object.assign(new Error("process.exit"), { exitCode: code });
  }) as typeof process.exit);
  try {
    await register();
    return { exitCode: undefined, log: lines.join("\n") };
  } catch (thrown) {
    return { exitCode: (thrown as { exitCode?: number }).exitCode, log: lines.join("\n") };
  } finally {
    error.mockRestore();
    exit.mockRestore();
  }
}

afterEach(() => setEnv(saved));

describe("start-up in production refuses weak secrets", () => {
  it.each([
    ["the .env.example placeholder", "change-me-session-secret"],
    ["a short secret", "abc123abc123abc123"],
    ["no secret at all", undefined],
    ["31 bytes", "x".repeat(31)],
  ])("NEXTAUTH_SECRET as %s: the server exits with status 1 and says why, without printing the value", async (_name, secret) => {
    setEnv({ NODE_ENV: "production", NEXT_RUNTIME: "nodejs", NEXTAUTH_SECRET: secret, METRICS_TOKEN: undefined });
    const { exitCode, log } = await startUp();
    expect(exitCode).toBe(1);
    expect(log).toMatch(/\[startup\] refusing to start: NEXTAUTH_SECRET: NEXTAUTH_SECRET (is not set|is the placeholder|is shorter than 32 bytes)/);
    if (secret) expect(log).not.toContain(secret);
  });

  it.each([
    ["the placeholder", "change-me-metrics-token-0123456789abcdef"],
    ["16 characters (enough before)", "metrics-token-16"],
  ])("METRICS_TOKEN as %s: the server exits with status 1", async (_name, token) => {
    setEnv({ NODE_ENV: "production", NEXT_RUNTIME: "nodejs", NEXTAUTH_SECRET: STRONG, METRICS_TOKEN: token });
    const { exitCode, log } = await startUp();
    expect(exitCode).toBe(1);
    expect(log).toContain("METRICS_TOKEN");
    expect(log).not.toContain(token);
  });

  it("a strong secret and an empty METRICS_TOKEN are accepted; outside production nothing is enforced", () => {
    setEnv({ NODE_ENV: "production", NEXTAUTH_SECRET: STRONG, METRICS_TOKEN: "" });
    expect(() => env()).not.toThrow();
    setEnv({ NODE_ENV: "production", NEXTAUTH_SECRET: STRONG, METRICS_TOKEN: STRONG });
    expect(() => env()).not.toThrow();
    setEnv({ NODE_ENV: "test", NEXTAUTH_SECRET: "change-me-session-secret" });
    expect(() => env()).not.toThrow();
  });

  it("`next build` (an image built without the deployment's secrets) is not refused; the built server still is, at start", async () => {
    setEnv({ NODE_ENV: "production", NEXT_PHASE: "phase-production-build", NEXTAUTH_SECRET: undefined, METRICS_TOKEN: undefined });
    expect(() => env()).not.toThrow();
    setEnv({ NODE_ENV: "production", NEXT_PHASE: undefined, NEXT_RUNTIME: "nodejs", NEXTAUTH_SECRET: undefined });
    const { exitCode } = await startUp();
    expect(exitCode).toBe(1);
  });
});
