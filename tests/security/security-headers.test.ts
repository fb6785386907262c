import { unstable_doesMiddlewareMatch, unstable_getResponseFromNextConfig } from "next/experimental/testing/server";
import { NextRequest } from "next/server";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { EarlyRequest } from "@/lib/http/early-answers";

// Attacks: framing the site to trick a click (clickjacking), running an injected script (XSS),
// sniffing a JSON answer as HTML, and a cross-site form posting an upload with the victim's
// session cookie (CSRF). Every page and API answer carries the headers; cookie-authenticated
// uploads check Origin. The built app is checked too (tests/e2e/participant-web.test.ts).
const jar = vi.hoisted(() => ({ cookies: new Map<string, string>() }));
vi.mock("next/headers", () => ({
  cookies: async () => ({ getAll: () => [...jar.cookies].map(([name, value]) => ({ name, value })) }),
  headers: async () => new Headers(),
}));

const { proxy, config } = await import("@/proxy");
const { leaderboardPageEarly } = await import("@/lib/leaderboard/page-early-answer");
const { forgetLeaderboardPages } = await import("@/lib/leaderboard/page-html-cache");
// @ts-expect-error -- next.config.mjs is plain JavaScript with a JSDoc type; the test reads its headers().
const nextConfig = (await import("@/next.config.mjs")).default as import("next").NextConfig;
const { POST: submitRoute } = await import("@/app/submit/[task]/route");
const { POST: datasetRoute } = await import("@/app/api/admin/tasks/[task]/dataset/route");
const { POST: referenceRoute } = await import("@/app/api/admin/tasks/[task]/reference/route");
const { db } = await import("@/lib/db");
const { createUser } = await import("@/lib/accounts/users");
const { int64Labels, participantWithTeam, randomRows, taskWithDataset, uniqueName } = await import("../integration/support/fixtures");
const { sessionCookie } = await import("../integration/support/session-cookie");

const SITE = "http://localhost:8000";

async function policyOf(path: string, headers: Record<string, string> = {}) {
  const response = await proxy(new NextRequest(`${SITE}${path}`, { headers }));
  return { response, csp: response.headers.get("content-security-policy") ?? "" };
}

describe("the proxy's Content-Security-Policy", () => {
  it("every page gets a policy with a fresh nonce that Next also receives, no eval in production, no framing", async () => {
    vi.stubEnv("NODE_ENV", "production");
    try {
      const first = await policyOf("/tasks/task2");
      const second = await policyOf("/tasks/task2/leaderboard");
      const nonce = /'nonce-([A-Za-z0-9+/=]{20,})'/.exec(first.csp)?.[1];
      expect(nonce).toBeDefined();
      expect(second.csp).not.toContain(nonce);
      expect(first.csp).toMatch(/script-src 'self' 'nonce-[^']+' 'strict-dynamic'(;|$)/);
      expect(first.csp).not.toContain("unsafe-eval");
      expect(first.csp).toContain("frame-ancestors 'none'");
      expect(first.csp).toContain("object-src 'none'");
      expect(first.csp).toContain("base-uri 'self'");
      // Next reads the nonce from the request's CSP header to put it on its scripts.
      expect(first.response.headers.get("x-middleware-request-content-security-policy")).toBe(first.csp);
      expect(first.response.headers.get("x-middleware-request-x-nonce")).toBe(nonce);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it("HSTS only when the browser came over HTTPS", async () => {
    expect((await policyOf("/")).response.headers.get("strict-transport-security")).toBeNull();
    const https = await policyOf("/", { "x-forwarded-proto": "https" });
    expect(https.response.headers.get("strict-transport-security")).toBe("max-age=31536000; includeSubDomains");
    expect(https.csp).toContain("upgrade-insecure-requests");
  });

  it("matches pages and next-auth's HTML, but not the JSON API, Swagger UI (a fixed policy of its own), the upload routes (a matched body is cut at 10 MB) or static files", () => {
    const matches = (url: string) => unstable_doesMiddlewareMatch({ config, url });
    for (const url of ["/", "/tasks/task2", "/tasks/task2/leaderboard", "/signin?next=%2Fteam", "/api/auth/signout", "/api/auth/error", "/submit/task2/status/3", "/submit/queue/status", "/metrics", "/apiary"]) {
      expect(matches(url), url).toBe(true);
    }
    for (const url of ["/api/health", "/api/tasks/task2/leaderboard", "/api/tasks/task2/leaderboard/events", "/api/admin/tasks/task2/export", "/api/authx", "/api/docs", "/api/docs/init.js", "/api/docsy", "/submit/task2", "/api/admin/tasks/task2/dataset", "/api/admin/tasks/task2/reference", "/_next/static/chunks/main.js"]) {
      expect(matches(url), url).toBe(false);
    }
  });
});

describe("the leaderboard page, kept by the proxy", () => {
  const HTML = "text/html,application/xhtml+xml,*/*;q=0.8";
  // A stand-in for this server's own address: it answers the proxy's render request as Next would
  // (a page with a fresh nonce in its policy and on its script), and records what it was asked.
  const renders: Headers[] = [];
  let server: http.Server;
  let origin: string;
  beforeAll(async () => {
    server = http.createServer((request, response) => {
      renders.push(new Headers(request.headers as Record<string, string>));
      const nonce = crypto.randomUUID();
      response.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-security-policy": `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'`, "set-cookie": "leak=1" });
      // A board's worth of rows (gzip starts at 1 KB).
      response.end(`<html><script nonce="${nonce}">boot()</script>${request.url}${"<tr><td>team</td></tr>".repeat(100)}</html>`);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    vi.stubEnv("__NEXT_PRIVATE_ORIGIN", origin);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await new Promise((resolve) => server.close(resolve));
  });

  it("is rendered once without the reader's cookies, then served with that render's bytes and nonce policy; the security headers still apply", async () => {
    const path = `/tasks/${crypto.randomUUID()}/leaderboard?page=2`;
    const first = await proxy(new NextRequest(`${SITE}${path}`, { headers: { accept: HTML, cookie: "goat-theme=dark; authjs.csrf-token=secret" } }));
    const second = await proxy(new NextRequest(`${SITE}${path}`, { headers: { accept: HTML, cookie: "goat-theme=dark", "x-forwarded-proto": "https" } }));
    const third = await proxy(new NextRequest(`${SITE}${path}`, { headers: { accept: HTML, cookie: "goat-theme=dark" } }));
    expect(renders).toHaveLength(2); // http and https are two pages (the policy differs)
    expect(renders[0].get("cookie")).toBe("goat-theme=dark");
    expect(renders[0].get("x-goat-page-render")).toBe("anonymous");
    expect([first, second, third].map((answer) => answer.headers.get("x-goat-page-cache"))).toEqual(["miss", "miss", "hit"]);
    const body = await first.text();
    expect(await third.text()).toBe(body);
    const nonce = /'nonce-([^']+)'/.exec(first.headers.get("content-security-policy")!)![1];
    expect(body).toContain(`<script nonce="${nonce}">`);
    expect(third.headers.get("content-security-policy")).toBe(first.headers.get("content-security-policy"));
    expect(first.headers.get("set-cookie")).toBeNull();
    expect(second.headers.get("strict-transport-security")).toBe("max-age=31536000; includeSubDomains");
    expect(first.headers.get("strict-transport-security")).toBeNull();
    const response = await unstable_getResponseFromNextConfig({ url: `${SITE}${path}`, nextConfig });
    expect(response.headers.get("x-frame-options")).toBe("DENY");
  });

  it("a signed-in reader gets the kept page for signed-in readers, rendered once without anyone's cookie; it is not the anonymous readers' page", async () => {
    const path = `/tasks/${crypto.randomUUID()}/leaderboard`;
    const before = renders.length;
    const alice = await proxy(new NextRequest(`${SITE}${path}`, { headers: { accept: HTML, cookie: "goat-theme=dark; next-auth.session-token=alice" } }));
    const bob = await proxy(new NextRequest(`${SITE}${path}`, { headers: { accept: HTML, cookie: "__Secure-next-auth.session-token=bob; goat-theme=dark" } }));
    const anonymous = await proxy(new NextRequest(`${SITE}${path}`, { headers: { accept: HTML, cookie: "goat-theme=dark" } }));
    expect(renders.length - before).toBe(2); // one per audience
    const [member, visitor] = renders.slice(before);
    expect(member.get("x-goat-page-render")).toBe("member");
    expect(member.get("cookie")).toBe("goat-theme=dark"); // the reader's session never reaches the render
    expect(visitor.get("x-goat-page-render")).toBe("anonymous");
    expect([alice, bob, anonymous].map((answer) => answer.headers.get("x-goat-page-cache"))).toEqual(["miss", "hit", "miss"]);
    expect(await bob.text()).toBe(await alice.text());
    expect(bob.headers.get("set-cookie")).toBeNull();
  });

  it("a caller by token, Next's own fetches of the page (navigation, prefetch, refresh) and the render itself go to Next with a fresh nonce", async () => {
    const path = `/tasks/${crypto.randomUUID()}/leaderboard`;
    await proxy(new NextRequest(`${SITE}${path}`, { headers: { accept: HTML } }));
    const before = renders.length;
    for (const headers of [
      { accept: HTML, authorization: "Bearer goat_x" },
      // What reaches the proxy of Next's RSC fetch: Next strips its rsc and router headers and the _rsc parameter first.
      { accept: "*/*", "sec-fetch-dest": "empty", "sec-fetch-mode": "cors" },
      { accept: "*/*" },
      { accept: HTML, "x-goat-page-render": "member" },
      { accept: HTML, "x-goat-page-render": "1", cookie: "next-auth.session-token=abc" },
    ] as Record<string, string>[]) {
      const answer = await proxy(new NextRequest(`${SITE}${path}`, { headers }));
      expect(answer.headers.get("x-middleware-next"), JSON.stringify(headers)).toBe("1");
      expect(answer.headers.get("x-goat-page-cache")).toBeNull();
      expect(answer.headers.get("x-middleware-request-x-nonce")).toMatch(/^[A-Za-z0-9+/=]{20,}$/);
    }
    expect(renders.length).toBe(before);
  });

  // The built web server answers a kept page before Next (lib/leaderboard/page-early-answer.ts): the
  // same page, the same headers as the proxy's answer plus next.config.mjs's, to the same readers only.
  describe("answered before Next by the web server", () => {
    const early = (url: string, headers: Record<string, string> = {}, method = "GET"): EarlyRequest => ({ method, url, headers: { host: "localhost:8000", ...headers }, remoteAddress: "127.0.0.1" });
    const keep = async (path: string, headers: Record<string, string> = {}) => {
      const kept = await proxy(new NextRequest(`${SITE}${path}`, { headers: { accept: HTML, ...headers } }));
      expect(kept.headers.get("x-goat-page-cache")).toBe("miss");
      return kept;
    };

    it("serves the proxy's kept page: its bytes, its render's nonce policy, the headers next.config.mjs adds to every answer, HSTS only over HTTPS, gzip once", async () => {
      const path = `/tasks/${crypto.randomUUID()}/leaderboard?page=2`;
      const kept = await keep(path, { cookie: "goat-theme=dark" });
      const keptBody = Buffer.from(await kept.arrayBuffer());
      const answer = await leaderboardPageEarly.answer(early(path, { accept: HTML, cookie: "goat-theme=dark; authjs.csrf-token=x" }));
      expect(answer).not.toBeNull();
      expect(answer!.status).toBe(200);
      expect(Buffer.from(answer!.body!).equals(keptBody)).toBe(true);
      const headers = new Headers(answer!.headers);
      expect(headers.get("content-security-policy")).toBe(kept.headers.get("content-security-policy"));
      expect(headers.get("content-security-policy")).toMatch(/'nonce-[^']+' 'strict-dynamic'/);
      expect(headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(headers.get("x-goat-page-cache")).toBe("hit");
      expect(headers.get("set-cookie")).toBeNull();
      expect(headers.get("strict-transport-security")).toBeNull();
      expect(headers.get("content-encoding")).toBeNull();
      expect(headers.get("vary")).toBe("Accept-Encoding");
      const fromNextConfig = await unstable_getResponseFromNextConfig({ url: `${SITE}${path}`, nextConfig });
      for (const name of ["x-frame-options", "x-content-type-options", "referrer-policy", "permissions-policy"]) {
        expect(headers.get(name), name).toBe(fromNextConfig.headers.get(name));
        expect(headers.get(name), name).not.toBeNull();
      }

      // Over HTTPS: the page kept for HTTPS (its policy may differ), with HSTS; gzip when taken, compressed once.
      expect(await leaderboardPageEarly.answer(early(path, { accept: HTML, cookie: "goat-theme=dark", "x-forwarded-proto": "https" }))).toBeNull();
      const keptHttps = await keep(path, { cookie: "goat-theme=dark", "x-forwarded-proto": "https" });
      const https = { accept: HTML, cookie: "goat-theme=dark", "x-forwarded-proto": "https", "accept-encoding": "gzip, deflate, br" };
      const [first, second] = [await leaderboardPageEarly.answer(early(path, https)), await leaderboardPageEarly.answer(early(path, https))];
      expect(first!.headers["strict-transport-security"]).toBe("max-age=31536000; includeSubDomains");
      expect(first!.headers["content-encoding"]).toBe("gzip");
      expect(gunzipSync(first!.body!).equals(Buffer.from(await keptHttps.arrayBuffer()))).toBe(true);
      expect(second!.body).toBe(first!.body);
    });

    it("declines what the proxy would not serve from its store: a token's caller, Next's own fetches, the render itself, another method, a page or variant not kept, a page whose board changed or that is older than 10 s, development", async () => {
      const slug = crypto.randomUUID();
      const path = `/tasks/${slug}/leaderboard`;
      await keep(path);
      expect(await leaderboardPageEarly.answer(early(path, { accept: HTML }))).not.toBeNull();
      const declined: [Record<string, string>, string?, string?][] = [
        [{ accept: HTML, authorization: "Bearer goat_x" }],
        [{ accept: "*/*", "sec-fetch-dest": "empty", "sec-fetch-mode": "cors" }],
        [{ accept: "*/*" }],
        [{ accept: HTML, "x-goat-page-render": "anonymous" }],
        [{ accept: HTML, "next-action": "abc" }],
        [{ accept: HTML }, "POST"],
        [{ accept: HTML }, "HEAD"],
        // the signed-in readers' variant, not kept yet: never the anonymous page
        [{ accept: HTML, cookie: "next-auth.session-token=alice" }],
        [{ accept: HTML, cookie: "goat-theme=light" }],
        [{ accept: HTML }, "GET", `${path}?page=3`],
        [{ accept: HTML }, "GET", `/tasks/${crypto.randomUUID()}/leaderboard`],
      ];
      for (const [headers, method = "GET", url = path] of declined) {
        const request = early(url, headers, method);
        expect(leaderboardPageEarly.accepts(request) ? await leaderboardPageEarly.answer(request) : null, `${method} ${url} ${JSON.stringify(headers)}`).toBeNull();
      }
      expect(leaderboardPageEarly.accepts(early(`/api/tasks/${slug}/leaderboard`, { accept: HTML }))).toBe(false);

      vi.stubEnv("NODE_ENV", "development");
      try {
        expect(await leaderboardPageEarly.answer(early(path, { accept: HTML }))).toBeNull();
      } finally {
        vi.unstubAllEnvs();
        vi.stubEnv("__NEXT_PRIVATE_ORIGIN", origin);
      }
      // A new score (or a reveal, an organiser's edit) drops the task's kept pages.
      forgetLeaderboardPages(slug);
      expect(await leaderboardPageEarly.answer(early(path, { accept: HTML }))).toBeNull();
      await keep(path);
      const now = Date.now();
      const clock = vi.spyOn(Date, "now").mockReturnValue(now + 10_001);
      try {
        expect(await leaderboardPageEarly.answer(early(path, { accept: HTML }))).toBeNull();
      } finally {
        clock.mockRestore();
      }
      expect(await leaderboardPageEarly.answer(early(path, { accept: HTML }))).not.toBeNull();
    });
  });
});

describe("next.config.mjs headers", () => {
  it("every answer, uploads included, forbids framing and sniffing and sets a referrer policy", async () => {
    for (const url of [`${SITE}/tasks`, `${SITE}/api/health`, `${SITE}/submit/task2`, `${SITE}/api/admin/tasks/t/dataset`]) {
      const response = await unstable_getResponseFromNextConfig({ url, nextConfig });
      expect(response.headers.get("x-frame-options"), url).toBe("DENY");
      expect(response.headers.get("x-content-type-options"), url).toBe("nosniff");
      expect(response.headers.get("referrer-policy"), url).toBe("strict-origin-when-cross-origin");
    }
  });

  it("the JSON API and the upload routes, outside the proxy, get a policy that allows nothing, and HSTS over HTTPS", async () => {
    for (const url of [`${SITE}/submit/task2`, `${SITE}/api/admin/tasks/t/dataset`, `${SITE}/api/admin/tasks/t/reference`, `${SITE}/api/tasks/t/leaderboard`, `${SITE}/api/health`, `${SITE}/api/tasks/t/leaderboard/events`]) {
      const response = await unstable_getResponseFromNextConfig({ url, nextConfig });
      expect(response.headers.get("content-security-policy"), url).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(response.headers.get("strict-transport-security"), url).toBeNull();
      const https = await unstable_getResponseFromNextConfig({ url, nextConfig, headers: { "x-forwarded-proto": "https" } });
      expect(https.headers.get("strict-transport-security"), url).toBe("max-age=31536000; includeSubDomains");
    }
  });

  it("no fixed policy on the paths the proxy answers (its nonce policy would be overridden or doubled)", async () => {
    for (const url of [`${SITE}/tasks/task2/leaderboard`, `${SITE}/api/auth/signout`, `${SITE}/submit/task2/status/3`]) {
      const response = await unstable_getResponseFromNextConfig({ url, nextConfig });
      expect(response.headers.get("content-security-policy"), url).toBeNull();
    }
  });

  it("Swagger UI (static HTML whose scripts are files of this origin, with no nonce) gets a fixed policy: this origin's scripts, nothing inline, no framing", async () => {
    for (const url of [`${SITE}/api/docs`, `${SITE}/api/docs/init.js`]) {
      const policy = (await unstable_getResponseFromNextConfig({ url, nextConfig })).headers.get("content-security-policy");
      expect(policy, url).toContain("script-src 'self';");
      expect(policy, url).not.toMatch(/unsafe-eval|nonce-|script-src[^;]*unsafe-inline/);
      expect(policy, url).toContain("frame-ancestors 'none'");
    }
  });
});

describe("cookie-authenticated uploads check Origin", () => {
  function multipart(field: string, body: string) {
    const form = new FormData();
    form.append(field, new Blob([body]), "model.onnx");
    return form;
  }

  it("POST /submit/{task} with a session cookie: another site's Origin or none is 403 and stores nothing; this site's passes; a Bearer token needs none", async () => {
    const task = await taskWithDataset({ inputs: randomRows(6, 4, 21), labels: int64Labels([0, 1, 2, 0, 1, 2]) });
    const member = await participantWithTeam();
    const cookie = await sessionCookie({ id: member.user.id, role: "PARTICIPANT" });
    const upload = (headers: Record<string, string>) =>
      submitRoute(new Request(`${SITE}/submit/${task.slug}`, { method: "POST", body: multipart("file", "junk"), headers: { host: "localhost:8000", ...headers } }), { params: Promise.resolve({ task: task.slug }) });

    for (const origin of ["https://evil.example", "http://localhost:8000.evil.example", "null"]) {
      const refused = await upload({ cookie, origin });
      expect(refused.status, origin).toBe(403);
      expect((await refused.json()).error.code).toBe("FORBIDDEN");
    }
    expect((await upload({ cookie })).status).toBe(403);
    expect(await db.submission.count({ where: { teamId: member.team.id } })).toBe(0);

    // Past the Origin check the intake looks at the file: junk is not ONNX.
    expect((await upload({ cookie, origin: SITE })).status).toBe(422);
    expect((await upload({ authorization: `Bearer ${member.token}` })).status).toBe(422);
  });

  it("the organisers' dataset and reference uploads refuse another site's Origin", async () => {
    const task = await taskWithDataset({ inputs: randomRows(6, 4, 23), labels: int64Labels([0, 1, 2, 0, 1, 2]) });
    const admin = await createUser({ email: `${uniqueName("org")}@test.local`, name: "Organiser", password: "organiser-pass-1", role: "ADMIN" });
    const [name, value] = (await sessionCookie({ id: admin.id, role: "ADMIN" })).split(/=(.*)/s);
    jar.cookies = new Map([[name, value]]);
    const before = await db.task.findUniqueOrThrow({ where: { id: task.id }, select: { datasetVersion: true } });
    const params = { params: Promise.resolve({ task: task.slug }) };
    const post = (route: typeof datasetRoute, path: string, field: string, origin?: string) =>
      route(new Request(`${SITE}/api/admin/tasks/${task.slug}/${path}`, { method: "POST", body: multipart(field, "junk"), headers: { host: "localhost:8000", ...(origin ? { origin } : {}) } }), params);

    for (const [route, path, field] of [[datasetRoute, "dataset", "inputs"], [referenceRoute, "reference", "file"]] as const) {
      expect((await post(route, path, field, "https://evil.example")).status, path).toBe(403);
      expect((await post(route, path, field)).status, path).toBe(403);
      const sameSite = await post(route, path, field, SITE);
      expect([400, 413, 422], path).toContain(sameSite.status);
    }
    expect(await db.task.findUniqueOrThrow({ where: { id: task.id }, select: { datasetVersion: true } })).toEqual(before);
    expect(await db.submission.count({ where: { taskId: task.id, isReference: true } })).toBe(0);
  });
});
