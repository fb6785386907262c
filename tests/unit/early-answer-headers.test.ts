import path from "node:path";
import { pathToFileURL } from "node:url";
import type { NextConfig } from "next";
import { describe, expect, it } from "vitest";
import { API_CONTENT_SECURITY_POLICY, apiAnswerHeaders, EVERY_ANSWER_HEADERS, STRICT_TRANSPORT_SECURITY } from "@/lib/http/security-headers";
import { acceptsGzip } from "@/lib/http/early-gzip";

// The web server answers anonymous leaderboard polls before Next (lib/http/early-answers.ts), so
// Next's `headers()` rules never see those answers: lib/http/security-headers.ts repeats them. This
// file fails when next.config.mjs changes and the copy does not.

const nextConfig = ((await import(pathToFileURL(path.resolve(__dirname, "../../next.config.mjs")).href)) as { default: NextConfig }).default;

interface HeaderRule {
  source: string;
  has?: { type: string; key: string; value?: string }[];
  headers: { key: string; value: string }[];
}

/** What next.config.mjs's rules give a path, as Next applies them (every matching rule, in order). */
async function configuredHeaders(pathname: string, https: boolean): Promise<Record<string, string>> {
  const rules = (await nextConfig.headers!()) as HeaderRule[];
  const matches = (source: string) => {
    if (source === "/:path*") return true;
    if (source.startsWith("/api/:path(")) return new RegExp(`^/api/${source.slice("/api/:path(".length, -1)}$`).test(pathname);
    return new RegExp(`^${source.replace(/:[a-z]+/g, "[^/]+")}$`).test(pathname);
  };
  const result: Record<string, string> = {};
  for (const rule of rules) {
    if (!matches(rule.source)) continue;
    if (rule.has?.some((condition) => condition.key === "x-forwarded-proto" && (condition.value !== "https" || !https))) continue;
    for (const header of rule.headers) result[header.key] = header.value;
  }
  return result;
}

describe("early answers' security headers", () => {
  it("are the headers next.config.mjs gives the leaderboard API, over HTTP and HTTPS", async () => {
    const pathname = "/api/tasks/task2/leaderboard";
    expect(apiAnswerHeaders(null)).toEqual(await configuredHeaders(pathname, false));
    expect(apiAnswerHeaders("https")).toEqual(await configuredHeaders(pathname, true));
    expect(apiAnswerHeaders("https")["Strict-Transport-Security"]).toBe(STRICT_TRANSPORT_SECURITY);
    expect(apiAnswerHeaders("http")).not.toHaveProperty("Strict-Transport-Security");
    expect(apiAnswerHeaders(null)["Content-Security-Policy"]).toBe(API_CONTENT_SECURITY_POLICY);
    expect(Object.keys(EVERY_ANSWER_HEADERS)).toEqual(["X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy", "Permissions-Policy"]);
  });

  it("the rule matcher of this test tells the API from the paths the proxy covers", async () => {
    // /api/auth/ is behind the proxy (its own nonce policy): next.config.mjs gives it no fixed policy.
    expect(await configuredHeaders("/api/auth/session", false)).not.toHaveProperty("Content-Security-Policy");
    expect((await configuredHeaders("/api/tasks/task2/leaderboard", false))["Content-Security-Policy"]).toBe(API_CONTENT_SECURITY_POLICY);
  });
});

describe("acceptsGzip", () => {
  it.each([
    ["gzip", true],
    ["gzip, deflate, br", true],
    ["br;q=1.0, gzip;q=0.5", true],
    ["*", true],
    ["GZIP", true],
    [null, false],
    ["", false],
    ["identity", false],
    ["br, deflate", false],
    ["gzip;q=0", false],
    ["gzip; q=0.000", false],
    ["x-gzip", false],
  ])("%j -> %s", (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});
