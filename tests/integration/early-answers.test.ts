import { gunzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import type { EarlyRequest } from "@/lib/http/early-answers";

// The leaderboard poll and the page's own part (the viewer) answered by the web server before Next
// (web-server.ts, lib/leaderboard/poll-answer.ts, lib/leaderboard/viewer.ts) against the route
// handlers they stand in for: the same bytes and headers from the same Postgres and Redis, for
// anonymous and signed-in callers alike (their own row, read from the same credentials), the same
// declines, and a new score seen at once.
// tests/e2e/seed-api.test.ts checks the built web server takes this path; rate limits shared by the
// two paths are attacked in tests/security/rate-limits.test.ts.

const { db } = await import("@/lib/db");
const { publishSubmissionStatus } = await import("@/lib/events/submission-events");
const { earlyAnswerRoute, registerEarlyAnswer } = await import("@/lib/http/early-answers");
const { leaderboardPoll } = await import("@/lib/leaderboard/poll-answer");
const { apiAnswerHeaders } = await import("@/lib/http/security-headers");
const { GET: leaderboardRoute } = await import("@/app/api/tasks/[task]/leaderboard/route");
const { GET: viewerRoute } = await import("@/app/api/tasks/[task]/leaderboard/viewer/route");
const { leaderboardViewerEarly } = await import("@/lib/leaderboard/viewer");
const { int64Labels, participantWithTeam, randomRows, scoredSubmission, taskWithDataset, uniqueName } = await import("./support/fixtures");
const { waitFor } = await import("./support/wait");
const { sessionCookie } = await import("./support/session-cookie");
const { createApiToken } = await import("@/lib/auth/api-token");

let slug: string;
let taskId: number;
let member: Awaited<ReturnType<typeof participantWithTeam>>;
let address = 0;

/** A request as the web server sees it, from its own address (the per-address poll limit stays out of the way). */
function early(url: string, headers: Record<string, string> = {}, method = "GET"): EarlyRequest {
  address += 1;
  return { method, url, headers: { host: "localhost", ...headers }, remoteAddress: `10.77.${address >> 8}.${address & 255}` };
}

async function route(url: string, headers: Record<string, string> = {}) {
  const response = await leaderboardRoute(new Request(`http://localhost${url}`, { headers: { "x-forwarded-for": `10.78.0.${(address += 1) & 255}`, ...headers } }), {
    params: Promise.resolve({ task: slug }),
  });
  return { status: response.status, headers: Object.fromEntries(response.headers), body: Buffer.from(await response.arrayBuffer()) };
}

async function answered(request: EarlyRequest) {
  const answer = await leaderboardPoll.answer(request);
  if (!answer) throw new Error(`the early answer declined ${request.url}`);
  return { ...answer, body: Buffer.from(answer.body ?? new Uint8Array()) };
}

const lower = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([key, value]) => [key.toLowerCase(), value]));

beforeAll(async () => {
  const task = await taskWithDataset({ inputs: randomRows(20, 4, 3), labels: int64Labels(Array.from({ length: 20 }, (_, i) => i % 3)) });
  slug = task.slug;
  taskId = task.id;
  member = await participantWithTeam(uniqueName("early-member"));
  const prefix = uniqueName("early");
  await db.team.createMany({ data: Array.from({ length: 40 }, (_, i) => ({ name: `${prefix}-${String(i).padStart(2, "0")}`, inviteCode: uniqueName("invite") })) });
  const teams = await db.team.findMany({ where: { name: { startsWith: prefix } }, select: { id: true, name: true } });
  for (const team of teams) {
    const rank = Number(team.name.slice(-2));
    await scoredSubmission({ taskId, teamId: team.id, userId: member.user.id, publicScore: 0.5 + rank / 100, privateScore: 0.9 - rank / 100 });
  }
  await scoredSubmission({ taskId, teamId: member.team.id, userId: member.user.id, publicScore: 0.505, privateScore: 0.1 });
});

describe("the early answer to a leaderboard poll", () => {
  it.each(["", "?page=2&pageSize=10", "?search=-1", "?board=private", "?pageSize=1000&page=1"])("gives the route's bytes and headers (query %j)", async (query) => {
    const url = `/api/tasks/${slug}/leaderboard${query}`;
    const [fromRoute, fromEarly] = [await route(url), await answered(early(url))];
    expect(fromEarly.status).toBe(200);
    expect(fromRoute.status).toBe(200);
    expect(fromEarly.body.toString()).toBe(fromRoute.body.toString());
    // The route's answer gets next.config.mjs's headers from Next; the early answer carries them itself.
    expect(lower(fromEarly.headers)).toEqual({ ...lower(apiAnswerHeaders(null)), ...fromRoute.headers, vary: "Authorization, Cookie, Accept-Encoding", "content-type": "application/json" });
    expect(JSON.parse(fromEarly.body.toString())).toMatchObject({ task: slug, board: "public", ownEntry: null });
  });

  it("answers 304 to a caller holding the board's version, and a new version once a score lands", async () => {
    const url = `/api/tasks/${slug}/leaderboard`;
    const first = await answered(early(url));
    const etag = first.headers.ETag;
    const unchanged = await answered(early(url, { "if-none-match": etag }));
    expect(unchanged.status).toBe(304);
    expect(unchanged.body.byteLength).toBe(0);
    expect(unchanged.headers.ETag).toBe(etag);

    const newcomer = await participantWithTeam(uniqueName("early-newcomer"));
    const id = await scoredSubmission({ taskId, teamId: newcomer.team.id, userId: newcomer.user.id, publicScore: 0.999, privateScore: 0.2 });
    await publishSubmissionStatus(id);
    const changed = await waitFor("the early answer to show the new score", async () => {
      const answer = await answered(early(url, { "if-none-match": etag }));
      return answer.status === 200 ? answer : null;
    }, 10_000);
    expect(changed.headers.ETag).not.toBe(etag);
    expect(JSON.parse(changed.body.toString()).entries[0]).toMatchObject({ rank: 1, team: newcomer.team.name, score: 0.999 });
    expect((await route(url)).body.toString()).toBe(changed.body.toString());
  });

  it("sends gzip to a caller that takes it, the same JSON once unzipped", async () => {
    const url = `/api/tasks/${slug}/leaderboard?pageSize=1000`;
    const plain = await answered(early(url));
    const zipped = await answered(early(url, { "accept-encoding": "gzip, deflate, br" }));
    expect(zipped.headers["Content-Encoding"]).toBe("gzip");
    expect(zipped.body.byteLength).toBeLessThan(plain.body.byteLength / 2);
    expect(gunzipSync(zipped.body).toString()).toBe(plain.body.toString());
    expect((await answered(early(url, { "accept-encoding": "gzip;q=0, identity" }))).headers).not.toHaveProperty("Content-Encoding");
  });

  it("adds HSTS when the proxy in front says the request came over HTTPS, as next.config.mjs does", async () => {
    const url = `/api/tasks/${slug}/leaderboard`;
    expect((await answered(early(url, { "x-forwarded-proto": "https" }))).headers["Strict-Transport-Security"]).toBe("max-age=31536000; includeSubDomains");
    expect((await answered(early(url))).headers).not.toHaveProperty("Strict-Transport-Security");
  });

  it("is taken for every GET of the poll, signed in or not; not for another method or another path: Next answers those", async () => {
    registerEarlyAnswer(leaderboardPoll);
    const url = `/api/tasks/${slug}/leaderboard`;
    for (const request of [early(url), early(`${url}?page=2`), early(url, { authorization: `Bearer ${member.token}` }), early(url, { cookie: "goat-theme=dark" })]) {
      expect(earlyAnswerRoute(request)?.name).toBe("leaderboard");
    }
    for (const request of [
      early(url, {}, "POST"),
      early(url, {}, "HEAD"),
      early(`${url}/`),
      early(`${url}/events`),
      early(`/api/tasks/${slug}/submissions`),
      early(`/api//tasks/${slug}/leaderboard`),
    ]) {
      expect(earlyAnswerRoute(request), `${request.method} ${request.url} ${JSON.stringify(request.headers)}`).toBeNull();
    }
  });

  it("gives a signed-in caller the route's answer with their own row, by session cookie or by token, kept private", async () => {
    // A page that does not reach the member's team (ranked near the bottom): its row comes as ownEntry.
    const url = `/api/tasks/${slug}/leaderboard?pageSize=10`;
    const cookie = `goat-theme=dark; ${await sessionCookie({ id: member.user.id, role: "PARTICIPANT" })}`;
    for (const credentials of [{ cookie }, { authorization: `Bearer ${member.token}` }] as Record<string, string>[]) {
      const [fromRoute, fromEarly] = [await route(url, credentials), await answered(early(url, credentials))];
      expect(fromEarly.status).toBe(200);
      expect(fromEarly.body.toString()).toBe(fromRoute.body.toString());
      expect(lower(fromEarly.headers)).toEqual({ ...lower(apiAnswerHeaders(null)), ...fromRoute.headers, vary: "Authorization, Cookie, Accept-Encoding", "content-type": "application/json" });
      expect(fromEarly.headers["Cache-Control"]).toBe("private, max-age=2");
      const body = JSON.parse(fromEarly.body.toString());
      expect(body.entries).toHaveLength(10);
      expect(body.entries.map((entry: { team: string }) => entry.team)).not.toContain(member.team.name);
      expect(body.ownEntry).toMatchObject({ team: member.team.name, score: 0.505 });
      // Its entity tag is the caller's own: the anonymous page's tag does not match it.
      const anonymous = await answered(early(url));
      expect(anonymous.headers.ETag).not.toBe(fromEarly.headers.ETag);
      expect((await answered(early(url, { ...credentials, "if-none-match": fromEarly.headers.ETag }))).status).toBe(304);
    }
  });

  it("gives callers whose credentials sign no one in the anonymous board, as the route does: another cookie, a bad, expired or revoked token, an ended session", async () => {
    const url = `/api/tasks/${slug}/leaderboard?pageSize=10`;
    const anonymous = (await answered(early(url))).body.toString();
    const expired = await createApiToken(member.user.id, "expired", new Date(Date.now() - 1_000));
    const revoked = await createApiToken(member.user.id, "revoked");
    await db.apiToken.update({ where: { id: revoked.id }, data: { revokedAt: new Date() } });
    const leaver = await participantWithTeam(uniqueName("early-leaver"));
    const endedSession = await sessionCookie({ id: leaver.user.id, role: "PARTICIPANT" });
    await db.user.update({ where: { id: leaver.user.id }, data: { sessionVersion: { increment: 1 } } }); // signed out elsewhere
    for (const credentials of [
      { cookie: "goat-theme=dark; next-auth.csrf-token=abc" },
      { authorization: "Bearer goat_not-a-token" },
      { authorization: `Bearer ${expired.token}` },
      { authorization: `Bearer ${revoked.token}` },
      { cookie: endedSession },
      { cookie: "next-auth.session-token=forged.jwt.value" },
    ] as Record<string, string>[]) {
      const [fromRoute, fromEarly] = [await route(url, credentials), await answered(early(url, credentials))];
      expect(fromEarly.body.toString(), JSON.stringify(credentials)).toBe(anonymous);
      expect(fromRoute.body.toString()).toBe(anonymous);
      expect(fromEarly.headers["Cache-Control"]).toBe("public, max-age=2, stale-while-revalidate=5");
    }
  });

  it("declines what the route refuses, so that Next gives the route's error", async () => {
    expect(await leaderboardPoll.answer(early(`/api/tasks/no-such-task-${uniqueName("x")}/leaderboard`))).toBeNull();
    expect(await leaderboardPoll.answer(early(`/api/tasks/${slug}/leaderboard?pageSize=5000`))).toBeNull();
    expect(await leaderboardPoll.answer(early(`/api/tasks/${slug}/leaderboard?page=0`))).toBeNull();
    expect(await leaderboardPoll.answer(early(`/api/tasks/%E0%A4%A/leaderboard`))).toBeNull();
    expect((await route(`/api/tasks/${slug}/leaderboard?pageSize=5000`)).status).toBe(422);
  });

  it("reads a task named with escapes as the route does", async () => {
    const encoded = `/api/tasks/${encodeURIComponent(slug).replace(/-/g, "%2D")}/leaderboard`;
    const fromEarly = await answered(early(encoded));
    expect(JSON.parse(fromEarly.body.toString())).toMatchObject({ task: slug });
  });
});

describe("the early answer to the leaderboard page's own part (the viewer)", () => {
  async function viewerFromRoute(url: string, headers: Record<string, string> = {}, task = slug) {
    const response = await viewerRoute(new Request(`http://localhost${url}`, { headers }), { params: Promise.resolve({ task }) });
    return { status: response.status, headers: Object.fromEntries(response.headers), body: Buffer.from(await response.arrayBuffer()) };
  }
  async function viewerEarly(request: EarlyRequest) {
    const answer = await leaderboardViewerEarly.answer(request);
    if (!answer) throw new Error(`the early answer declined ${request.url}`);
    return { ...answer, body: Buffer.from(answer.body ?? new Uint8Array()) };
  }

  it("gives the route's bytes and headers: the member's own part by their session cookie, the empty one to anyone else", async () => {
    const leaver = await participantWithTeam(uniqueName("viewer-leaver"));
    const endedSession = await sessionCookie({ id: leaver.user.id, role: "PARTICIPANT" });
    await db.user.update({ where: { id: leaver.user.id }, data: { sessionVersion: { increment: 1 } } });
    const memberCookie = `goat-theme=dark; ${await sessionCookie({ id: member.user.id, role: "PARTICIPANT" })}`;
    const url = `/api/tasks/${slug}/leaderboard/viewer`;
    for (const [query, headers] of [
      ["", { cookie: memberCookie }],
      ["?board=private", { cookie: memberCookie }],
      ["", {}],
      ["", { authorization: `Bearer ${member.token}` }],
      ["", { cookie: endedSession }],
      ["", { cookie: "next-auth.session-token=forged.jwt.value" }],
    ] as [string, Record<string, string>][]) {
      const [fromRoute, fromEarly] = [await viewerFromRoute(`${url}${query}`, headers), await viewerEarly(early(`${url}${query}`, headers))];
      const label = `${query} ${JSON.stringify(headers).slice(0, 40)}`;
      expect(fromRoute.status, label).toBe(200);
      expect(fromEarly.status, label).toBe(200);
      expect(fromEarly.body.toString(), label).toBe(fromRoute.body.toString());
      expect(lower(fromEarly.headers), label).toEqual({ ...lower(apiAnswerHeaders(null)), ...fromRoute.headers });
      expect(fromEarly.headers["Cache-Control"]).toBe("private, no-store");
      const body = JSON.parse(fromEarly.body.toString());
      if (headers.cookie === memberCookie) expect(body.ownEntry, label).toMatchObject({ team: member.team.name, score: 0.505 });
      else expect(body, label).toEqual({ user: null, ownEntry: null, ownPublicScore: null, ownScores: null });
    }
  });

  it("is taken for a GET of the viewer only, and declines an unknown task, so that Next gives the route's 404", async () => {
    registerEarlyAnswer(leaderboardViewerEarly);
    const url = `/api/tasks/${slug}/leaderboard/viewer`;
    for (const request of [early(url), early(`${url}?board=private`), early(url, { cookie: "goat-theme=dark" })]) expect(earlyAnswerRoute(request)?.name).toBe("leaderboard-viewer");
    for (const request of [early(url, {}, "POST"), early(`${url}/`), early(`/api/tasks/${slug}/leaderboard/viewerx`)]) expect(earlyAnswerRoute(request)?.name, request.url).not.toBe("leaderboard-viewer");
    const unknown = `no-such-task-${uniqueName("x")}`;
    expect(await leaderboardViewerEarly.answer(early(`/api/tasks/${unknown}/leaderboard/viewer`))).toBeNull();
    expect((await viewerFromRoute(`/api/tasks/${unknown}/leaderboard/viewer`, {}, unknown)).status).toBe(404);
    expect(await leaderboardViewerEarly.answer(early(`/api/tasks/%E0%A4%A/leaderboard/viewer`))).toBeNull();
  });
});
