import IORedis from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { submissionEventsChannel } from "@goat/contracts/submission-events";
import type { SessionUser } from "@/lib/auth/session";
import type { OpenApiDocument } from "../support/openapi-validator";

// The leaderboard as readers get it: the API's pages, search, own row and entity tags, the page's
// first page (the same for every reader) and the reader's own part of it (the viewer), and the live
// stream's fan-out. Pages read the request through Next's request scope, which a test cannot enter,
// so next/headers is the seam given the test's request headers (and currentUser() the session's
// user); route handlers get a real signed session cookie or a real Bearer token. Everything behind
// is real (Postgres, Redis).
const session = vi.hoisted(() => ({ user: null as SessionUser | null, headers: new Headers() }));
vi.mock("@/lib/auth/session", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@/lib/auth/session")>()),
  currentUser: async () => session.user,
}));
vi.mock("next/headers", () => ({ headers: async () => session.headers, cookies: async () => ({ get: () => undefined, getAll: () => [] }) }));

const { db } = await import("@/lib/db");
const { env } = await import("@/lib/env");
const { publishSubmissionStatus } = await import("@/lib/events/submission-events");
const { publishBoardReveal } = await import("@/lib/events/board-reveal-events");
const { leaderboardPage } = await import("@/lib/leaderboard/page-html-cache");
const { openLeaderboardStreams } = await import("@/lib/events/leaderboard-stream");
const { GET: leaderboardRoute } = await import("@/app/api/tasks/[task]/leaderboard/route");
const { GET: leaderboardEventsRoute } = await import("@/app/api/tasks/[task]/leaderboard/events/route");
const { GET: viewerRoute } = await import("@/app/api/tasks/[task]/leaderboard/viewer/route");
const { LeaderboardViewerProvider } = await import("@/components/tasks/leaderboard-viewer");
const LeaderboardPage = (await import("@/app/tasks/[task]/leaderboard/page")).default;
const { LeaderboardTable } = await import("@/components/tasks/leaderboard-table");
const { createUser } = await import("@/lib/accounts/users");
const { int64Labels, participantWithTeam, randomRows, taskWithDataset, uniqueName } = await import("./support/fixtures");
const { findElement } = await import("./support/element-text");
const { openApiDocument } = await import("@/lib/openapi/document");
const { openApiValidator } = await import("../support/openapi-validator");
const { sessionCookie } = await import("./support/session-cookie");
const { waitFor } = await import("./support/wait");

const TEAMS = 250;
let slug: string;
let taskId: number;
let userId: number;
let member: Awaited<ReturnType<typeof participantWithTeam>>;
let memberSubmission: number;
let teamNames: string[];
const redis = new IORedis(process.env.REDIS_URL!);

const ctx = (task: string) => ({ params: Promise.resolve({ task }) });
const get = (query = "", headers: Record<string, string> = {}) => leaderboardRoute(new Request(`http://x/api/tasks/${slug}/leaderboard${query}`, { headers }), ctx(slug));

/** A scored submission, stored as the worker stores it (RUNNING -> SCORED and the result in one transaction). */
async function scored(teamId: number, score: number): Promise<number> {
  const { id } = await db.submission.create({
    data: { taskId, teamId, userId, fileName: "m.onnx", sha256: "ab".repeat(32), sizeBytes: 1, storageKey: uniqueName("k"), paramCount: 1, status: "RUNNING" },
  });
  await db.$transaction(async (tx) => {
    await tx.submission.update({ where: { id }, data: { status: "SCORED" } });
    await tx.result.create({
      data: { submissionId: id, publicMetrics: {}, privateMetrics: {}, publicScore: score, privateScore: score, latencyP50Ms: 1, latencyP95Ms: 1, modelBytes: 1, paramCount: 1, receipt: {} },
    });
  });
  return id;
}

beforeAll(async () => {
  const task = await taskWithDataset({ inputs: randomRows(20, 4, 1), labels: int64Labels(Array.from({ length: 20 }, (_, i) => i % 3)) });
  slug = task.slug;
  taskId = task.id;
  member = await participantWithTeam(uniqueName("member-team"));
  userId = member.user.id;
  const prefix = uniqueName("board");
  teamNames = Array.from({ length: TEAMS - 1 }, (_, i) => `${prefix}-${String(i).padStart(3, "0")}`);
  await db.team.createMany({ data: teamNames.map((name) => ({ name, inviteCode: uniqueName("invite") })) });
  const teams = await db.team.findMany({ where: { name: { in: teamNames } }, select: { id: true, name: true } });
  // Distinct scores: team i scores 1000 - i; the member's team ranks 200th, between teams 198 and 199.
  for (const team of teams) await scored(team.id, 1000 - teamNames.indexOf(team.name));
  memberSubmission = await scored(member.team.id, 801.5);
});

afterAll(async () => {
  await redis.quit();
});

describe("the leaderboard API", () => {
  it("answers one page at a time: 100 rows by default, up to 1,000, with the whole board's ranks", async () => {
    const first = await (await get()).json();
    expect(first).toMatchObject({ task: slug, board: "public", page: 1, pageSize: 100, totalEntries: TEAMS, totalPages: 3, ownEntry: null, search: "" });
    expect(first.entries).toHaveLength(100);
    expect(first.entries.map((entry: { rank: number }) => entry.rank)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(first.entries[0]).toMatchObject({ team: teamNames[0], rank: 1, submissionCount: 1 });

    const third = await (await get("?page=3")).json();
    expect(third.entries).toHaveLength(50);
    expect(third.entries[0].rank).toBe(201);

    const whole = await (await get("?pageSize=1000")).json();
    expect(whole.entries).toHaveLength(TEAMS);
    expect(whole.entries[199]).toMatchObject({ teamId: member.team.id, rank: 200 });

    const tooLarge = await get("?pageSize=1001");
    expect(tooLarge.status).toBe(422);
    expect((await tooLarge.json()).error.code).toBe("VALIDATION_FAILED");
  });

  it("finds teams by name, keeping their rank on the whole board", async () => {
    const found = await (await get(`?search=${encodeURIComponent(teamNames[150].toUpperCase())}`)).json();
    expect(found.entries).toEqual([expect.objectContaining({ team: teamNames[150], rank: 151 })]);
    expect(found.totalEntries).toBe(1);
    expect((await (await get("?search=no-such-team-anywhere")).json()).entries).toEqual([]);
  });

  it("always includes the signed-in caller's own row, by session cookie or by Bearer token", async () => {
    const byCookie = await get("", { cookie: await sessionCookie({ id: member.user.id, role: "PARTICIPANT" }) });
    const body = await byCookie.json();
    expect(body.entries).toHaveLength(100);
    expect(body.ownEntry).toMatchObject({ teamId: member.team.id, team: member.team.name, rank: 200 });
    expect(byCookie.headers.get("cache-control")).toMatch(/^private/);
    const byToken = await (await get("", { authorization: `Bearer ${member.token}` })).json();
    expect(byToken.ownEntry).toMatchObject({ teamId: member.team.id, rank: 200 });
    const anonymous = await get();
    expect(anonymous.headers.get("cache-control")).toMatch(/^public, max-age=\d+/);
  });

  it("answers 304 to a matching If-None-Match until a new score changes the board", async () => {
    const first = await get();
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^W\/"[^"]+"$/);
    const again = await get("", { "if-none-match": etag! });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    // Another page, or another page size, is another entity.
    expect((await get("?page=2", { "if-none-match": etag! })).status).toBe(200);

    const boardTeam = await db.team.findFirstOrThrow({ where: { name: teamNames[10] } });
    const submissionId = await scored(boardTeam.id, 5000);
    await publishSubmissionStatus(submissionId);
    const changed = await waitFor("the board to change", async () => {
      const response = await get("", { "if-none-match": etag! });
      return response.status === 200 ? response : null;
    });
    expect(changed.headers.get("etag")).not.toBe(etag);
    expect((await changed.json()).entries[0]).toMatchObject({ team: teamNames[10], rank: 1, score: 5000, submissionCount: 2 });
  });
});

describe("the leaderboard page", () => {
  it("renders the first page of the board, nothing of its reader: a signed-in reader's own part is left to the browser", async () => {
    const render = async (headers: Record<string, string>, page?: string) => {
      session.headers = new Headers(headers);
      const tree = await LeaderboardPage({ params: Promise.resolve({ task: slug }), searchParams: Promise.resolve(page ? { page } : {}) });
      const table = findElement(tree, LeaderboardTable)!;
      const { renderedAt, ...props } = table.props as { renderedAt: string } & Record<string, unknown>;
      expect(Date.parse(renderedAt)).toBeGreaterThan(0);
      return { props, signedIn: findElement(tree, LeaderboardViewerProvider)!.props.signedIn as boolean };
    };
    const cookie = await sessionCookie({ id: member.user.id, role: "PARTICIPANT" });
    session.user = { id: member.user.id, email: member.user.email, name: member.user.name, role: "PARTICIPANT", team: { id: member.team.id, name: member.team.name } };
    const signedIn = await render({ cookie });
    expect((signedIn.props.rows as unknown[]).length).toBe(100);
    expect(signedIn.props.topOfBoard).toBe(true);
    expect(JSON.stringify(signedIn.props)).not.toContain(member.team.name);
    expect(signedIn.signedIn).toBe(true);

    session.user = null;
    const anonymous = await render({});
    expect(anonymous.props).toEqual(signedIn.props);
    expect(anonymous.signedIn).toBe(false);
    // The proxy's renders of the kept pages carry no cookie; the signed-in variant still asks for the reader's part.
    expect((await render({ "x-goat-page-render": "member" })).signedIn).toBe(true);
    expect((await render({ "x-goat-page-render": "anonymous" })).signedIn).toBe(false);

    const second = await render({}, "2");
    expect((second.props.rows as { rank: number }[])[0].rank).toBe(101);
    expect(second.props.topOfBoard).toBe(false);
    session.headers = new Headers();
  });

  // proxy.ts keeps the anonymous page's HTML (lib/leaderboard/page-html-cache.ts; the proxy's own
  // rules: tests/security/security-headers.test.ts); here, what drops it: the real events over Redis.
  it("an anonymous reader's kept page is dropped by a new score's event and by a reveal's, in every process that keeps boards", async () => {
    let renders = 0;
    const render = async () => new Response(`<html>${++renders}</html>`, { headers: { "content-type": "text/html", "content-security-policy": `script-src 'nonce-n${renders}'` } });
    const key = `http|system|/tasks/${slug}/leaderboard`;
    await get(); // this process keeps the task's boards: it listens for their events
    expect((await leaderboardPage(key, slug, render))?.hit).toBe(false);
    expect((await leaderboardPage(key, slug, render))?.hit).toBe(true);

    const boardTeam = await db.team.findFirstOrThrow({ where: { name: teamNames[30] } });
    await publishSubmissionStatus(await scored(boardTeam.id, 4000));
    // Well within the kept page's 10 s age limit: it is the event that drops it.
    await waitFor("the kept page to be dropped by the scored event", async () => (await leaderboardPage(key, slug, render))?.hit === false, 5_000);
    expect((await leaderboardPage(key, slug, render))?.hit).toBe(true);

    await publishBoardReveal({ taskSlug: slug, revealed: false });
    await waitFor("the kept page to be dropped by the reveal event", async () => (await leaderboardPage(key, slug, render))?.hit === false, 5_000);
  });
});

describe("the live stream", () => {
  it("fans a new score out to every open stream over one Redis subscription, with the team's new row", async () => {
    const channel = submissionEventsChannel(env().QUEUE_PREFIX);
    const aborts = Array.from({ length: 50 }, () => new AbortController());
    const responses = await Promise.all(aborts.map((abort) => leaderboardEventsRoute(new Request("http://x/", { signal: abort.signal }), ctx(slug))));
    expect(openLeaderboardStreams()).toBe(50);
    await waitFor("the process's subscription", async () => {
      const [, subscribers] = (await redis.pubsub("NUMSUB", channel)) as [string, number];
      return Number(subscribers) >= 1;
    });
    const [, subscribers] = (await redis.pubsub("NUMSUB", channel)) as [string, number];
    expect(Number(subscribers)).toBe(1);

    const readers = responses.map((response) => readScoredEvent(response));
    const boardTeam = await db.team.findFirstOrThrow({ where: { name: teamNames[20] } });
    const submissionId = await scored(boardTeam.id, 6000);
    await publishSubmissionStatus(submissionId);
    const events = await Promise.all(readers);
    for (const event of events) {
      expect(event).toMatchObject({ task: slug, public: { teamId: boardTeam.id, team: teamNames[20], rank: 1, score: 6000, submissionId } });
    }
    for (const abort of aborts) abort.abort();
    await waitFor("the streams to close", async () => openLeaderboardStreams() === 0);
  });
});

/** The data of the first "scored" event on a server-sent-event response (10 s at most). */
async function readScoredEvent(response: Response): Promise<Record<string, unknown>> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const deadline = Date.now() + 10_000;
  try {
    while (Date.now() < deadline) {
      const chunk = await Promise.race([reader.read(), new Promise<null>((resolve) => setTimeout(() => resolve(null), deadline - Date.now()))]);
      if (!chunk || chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      const match = /event: scored\ndata: (.+)\n\n/.exec(buffer);
      if (match) return JSON.parse(match[1]);
    }
    throw new Error("no scored event within 10 s");
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

describe("the leaderboard viewer (the reader's own part of the page)", () => {
  const viewer = (headers: Record<string, string> = {}, query = "", task = slug) =>
    viewerRoute(new Request(`http://x/api/tasks/${encodeURIComponent(task)}/leaderboard/viewer${query}`, { headers }), ctx(task));
  const anonymous = { user: null, ownEntry: null, ownPublicScore: null, ownScores: null };
  const validate = openApiValidator(openApiDocument() as unknown as OpenApiDocument);

  it("gives a signed-in reader who they are, their team's row, its best public score and its scored submissions, for them alone", async () => {
    const answer = await viewer({ cookie: await sessionCookie({ id: member.user.id, role: "PARTICIPANT" }) });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("cache-control")).toBe("private, no-store");
    const body = await answer.json();
    expect(body.user).toEqual({ name: member.user.name, role: "PARTICIPANT", team: { id: member.team.id, name: member.team.name } });
    expect(body.ownEntry).toMatchObject({ teamId: member.team.id, team: member.team.name, rank: 200, score: 801.5 });
    expect(body.ownPublicScore).toBe(801.5);
    expect(body.ownScores).toEqual([{ id: memberSubmission, score: 801.5 }]);
    expect(JSON.stringify(body)).not.toContain(member.user.email);
    validate("GET", "/api/tasks/{task}/leaderboard/viewer", 200, body);
    validate("GET", "/api/tasks/{task}/leaderboard/viewer", 200, anonymous);
  });

  it("a signed-in reader without a team is only named", async () => {
    const loner = await createUser({ email: `${uniqueName("loner")}@test.local`, name: "Loner", password: "test-password-1" });
    const body = await (await viewer({ cookie: await sessionCookie({ id: loner.id, role: "PARTICIPANT" }) })).json();
    expect(body).toEqual({ ...anonymous, user: { name: "Loner", role: "PARTICIPANT", team: null } });
  });

  it("gives anyone else nothing: no cookie, a token (the page's browser sends its cookie), a forged cookie, an ended session", async () => {
    const other = await participantWithTeam(uniqueName("ended-team"));
    await scored(other.team.id, 1.5);
    const cookie = await sessionCookie({ id: other.user.id, role: "PARTICIPANT" });
    expect((await (await viewer({ cookie })).json()).user.name).toBe(other.user.name); // the control
    await db.user.update({ where: { id: other.user.id }, data: { sessionVersion: { increment: 1 } } });
    for (const headers of [{}, { authorization: `Bearer ${member.token}` }, { cookie: "next-auth.session-token=forged" }, { cookie }] as Record<string, string>[]) {
      const answer = await viewer(headers);
      expect(answer.status, JSON.stringify(headers)).toBe(200);
      expect(await answer.json(), JSON.stringify(headers)).toEqual(anonymous);
    }
  });

  it("answers as the board's API does: 404 for an unknown task, and the public board's row when the private board is asked for before its reveal", async () => {
    const cookie = await sessionCookie({ id: member.user.id, role: "PARTICIPANT" });
    const unknown = await viewer({ cookie }, "", "no-such-task");
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe((await (await leaderboardRoute(new Request("http://x/api/tasks/no-such-task/leaderboard"), ctx("no-such-task"))).json()).error.code);
    const hidden = await (await viewer({ cookie }, "?board=private")).json();
    const fromApi = await (await get("?board=private", { cookie })).json();
    expect(fromApi.board).toBe("public");
    expect(hidden.ownEntry).toEqual(fromApi.ownEntry);
    expect(hidden.ownEntry).toMatchObject({ teamId: member.team.id, rank: 200 });
  });
});
