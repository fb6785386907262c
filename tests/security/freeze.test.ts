import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { SessionUser } from "@/lib/auth/session";

// The freeze (docs/ranking.md "The freeze"), attacked channel by channel: while the public board is
// frozen, a score of a submission made after the freeze point must not show anywhere public (the
// leaderboard API on both boards, the page and its "best public score over time" chart, the live
// events, the task cards' team count, the public-board export, other teams' and organisers'
// webhooks); its own team sees it, marked "after the freeze". After the close and the reveal, every
// channel shows it. The leaderboard page reads the request through Next's request scope, which a
// test cannot enter: currentUser() and next/headers are the seams (an anonymous visitor here).
const session = vi.hoisted(() => ({ user: null as SessionUser | null }));
vi.mock("@/lib/auth/session", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@/lib/auth/session")>()),
  currentUser: async () => session.user,
}));
vi.mock("next/headers", () => ({ headers: async () => new Headers(), cookies: async () => ({ get: () => undefined, getAll: () => [] }) }));

const { db } = await import("@/lib/db");
const { createUser } = await import("@/lib/accounts/users");
const { exportRows } = await import("@/lib/admin/export");
const { setPrivateRevealed } = await import("@/lib/admin/controls");
const { publishSubmissionStatus } = await import("@/lib/events/submission-events");
const { forgetLeaderboards } = await import("@/lib/leaderboard/cache");
const { bestScoreOverTime } = await import("@/lib/leaderboard/history");
const { taskCatalog, taskDetail } = await import("@/lib/tasks/catalog");
const { teamSubmissionsForTask } = await import("@/lib/submissions/team-list");
const { fanOutTrigger } = await import("@/lib/webhooks/fan-out");
const { GET: leaderboardRoute } = await import("@/app/api/tasks/[task]/leaderboard/route");
const { leaderboardPoll } = await import("@/lib/leaderboard/poll-answer");
const { GET: leaderboardEventsRoute } = await import("@/app/api/tasks/[task]/leaderboard/events/route");
const { GET: leaderboardViewerRoute } = await import("@/app/api/tasks/[task]/leaderboard/viewer/route");
const { sessionCookie } = await import("../integration/support/session-cookie");
const LeaderboardPage = (await import("@/app/tasks/[task]/leaderboard/page")).default;
const { BestScoreChart } = await import("@/components/charts/best-score-chart");
const { LeaderboardTable } = await import("@/components/tasks/leaderboard-table");
const { participantWithTeam, rankingTask, scoredSubmission } = await import("../integration/support/fixtures");
const { findElement } = await import("../integration/support/element-text");
const { readEventStream, waitFor } = await import("./support/event-reader");

const MINUTE = 60_000;
// Scores no pre-freeze submission has: finding one of them anywhere public is the leak.
const HIDDEN_BETTER = 0.9512345;
const HIDDEN_NEWCOMER = 0.9387654;

let slug: string;
let taskId: number;
let admin: SessionUser;
let teams: Record<"leader" | "improver" | "newcomer", Awaited<ReturnType<typeof participantWithTeam>>>;
let improverLate: number;
let newcomerLate: number;
const webhookIds: number[] = [];

const ctx = { params: Promise.resolve({} as { task: string }) };
const boardAnswer = async (query = "", headers: Record<string, string> = {}) =>
  (await leaderboardRoute(new Request(`http://x/api/tasks/${slug}/leaderboard${query}`, { headers }), { params: Promise.resolve({ task: slug }) })).text();

/** The anonymous poll as the web server answers it before Next (web-server.ts). */
async function earlyAnswer(query = ""): Promise<string> {
  const answer = await leaderboardPoll.answer({ method: "GET", url: `/api/tasks/${slug}/leaderboard${query}`, headers: {}, remoteAddress: "127.0.0.1" });
  if (!answer?.body) throw new Error("the early answer declined an anonymous poll");
  return Buffer.from(answer.body).toString();
}

/** Everything an anonymous visitor of the page gets: the table's rows and the chart's series. */
async function pageAsVisitor(): Promise<string> {
  session.user = null;
  const tree = await LeaderboardPage({ params: Promise.resolve({ task: slug }), searchParams: Promise.resolve({}) });
  return JSON.stringify({ table: findElement(tree, LeaderboardTable)?.props.rows, chart: findElement(tree, BestScoreChart)?.props.series });
}

/** Every public channel's text at once, for the "nothing of it" checks. */
async function publicChannels(): Promise<Record<string, string>> {
  forgetLeaderboards(slug);
  const other = teams.leader;
  return {
    "the leaderboard API": await boardAnswer(),
    "the leaderboard API asked for the private board": await boardAnswer("?board=private"),
    "the web server's early answer to an anonymous poll": await earlyAnswer(),
    "the same, asked for the private board": await earlyAnswer("?board=private"),
    "the leaderboard API as another team": await boardAnswer("", { authorization: `Bearer ${other.token}` }),
    "the leaderboard page's own part for another team": await (
      await leaderboardViewerRoute(new Request(`http://x/api/tasks/${slug}/leaderboard/viewer`, { headers: { cookie: await sessionCookie({ id: other.user.id, role: "PARTICIPANT" }) } }), {
        params: Promise.resolve({ task: slug }),
      })
    ).text(),
    "the chart's data": JSON.stringify(await bestScoreOverTime(slug)),
    "the leaderboard page": await pageAsVisitor(),
    "the public-board export": JSON.stringify(await exportRows(admin, slug, "leaderboard")),
  };
}

beforeAll(async () => {
  const now = Date.now();
  // Closes in 30 minutes with a 60-minute freeze: frozen since 30 minutes ago.
  const task = await rankingTask({ closesAt: new Date(now + 30 * MINUTE) });
  await db.task.update({ where: { id: task.id }, data: { publicFreezeMinutes: 60 } });
  slug = task.slug;
  taskId = task.id;
  ctx.params = Promise.resolve({ task: slug });
  const organiser = await createUser({ email: `organiser-${slug}@test.local`, name: "Organiser", password: "test-password-1", role: "ADMIN" });
  admin = { id: organiser.id, email: organiser.email, name: organiser.name, role: "ADMIN", team: null };
  teams = { leader: await participantWithTeam(), improver: await participantWithTeam(), newcomer: await participantWithTeam() };
  const before = new Date(now - 2 * 60 * MINUTE);
  await scoredSubmission({ taskId, teamId: teams.leader.team.id, userId: teams.leader.user.id, publicScore: 0.8, privateScore: 0.8, createdAt: before });
  await scoredSubmission({ taskId, teamId: teams.improver.team.id, userId: teams.improver.user.id, publicScore: 0.7, privateScore: 0.7, createdAt: before });
  // The other teams' webhooks, and the organisers': none may hear of a post-freeze score.
  for (const [scope, teamId] of [["TEAM", teams.leader.team.id], ["TEAM", teams.improver.team.id], ["ORGANISERS", null]] as const) {
    const hook = await db.webhook.create({ data: { scope, teamId, url: "https://hooks.example.com/x", kind: "GENERIC", secret: "s", events: ["submission.scored", "leaderboard.new_leader"] } });
    webhookIds.push(hook.id);
  }
});

afterAll(async () => {
  await db.webhook.deleteMany({ where: { id: { in: webhookIds } } });
  await db.task.delete({ where: { id: taskId } });
});

describe("while the public board is frozen", () => {
  it("shows the pre-freeze board on every public channel before the attack (the checks below can see a score)", async () => {
    for (const [channel, text] of Object.entries(await publicChannels())) {
      expect(text, channel).toContain(teams.leader.team.name);
      expect(text, channel).toMatch(/0\.8\b/);
    }
  });

  it("pushes no event at all for post-freeze scores, and still pushes a pre-freeze one", async () => {
    const abort = new AbortController();
    const stream = readEventStream(await leaderboardEventsRoute(new Request("http://x/", { signal: abort.signal }), ctx));
    const now = Date.now();
    improverLate = await scoredSubmission({ taskId, teamId: teams.improver.team.id, userId: teams.improver.user.id, publicScore: HIDDEN_BETTER, privateScore: HIDDEN_BETTER, createdAt: new Date(now - 5 * MINUTE) });
    newcomerLate = await scoredSubmission({ taskId, teamId: teams.newcomer.team.id, userId: teams.newcomer.user.id, publicScore: HIDDEN_NEWCOMER, privateScore: HIDDEN_NEWCOMER, createdAt: new Date(now - MINUTE) });
    await publishSubmissionStatus(improverLate);
    await publishSubmissionStatus(newcomerLate);
    // A submission made before the freeze and scored only now does move the board: its event is the
    // marker that the two before it were handled (one subscription, events in order).
    const marker = await scoredSubmission({ taskId, teamId: teams.leader.team.id, userId: teams.leader.user.id, publicScore: 0.85, privateScore: 0.85, createdAt: new Date(now - 90 * MINUTE) });
    await publishSubmissionStatus(marker);
    await waitFor("the pre-freeze score's event", () => stream.events.length > 0, 10_000);
    abort.abort();
    await stream.cancel();
    expect(stream.events.map((event) => event.event)).toEqual(["scored"]);
    expect(stream.events[0].data).toMatchObject({ public: { teamId: teams.leader.team.id, submissionId: marker, score: 0.85 } });
    expect(JSON.stringify(stream.events)).not.toMatch(/0\.951|0\.938/);
  });

  it("shows nothing of the post-freeze scores on the board, the chart, the page or the export", async () => {
    for (const [channel, text] of Object.entries(await publicChannels())) {
      expect(text, channel).not.toContain(String(HIDDEN_BETTER));
      expect(text, channel).not.toContain(String(HIDDEN_NEWCOMER));
      expect(text, channel).not.toContain(teams.newcomer.team.name);
      expect(text, channel).not.toContain(`"submissionId":${improverLate}`);
    }
    const board = JSON.parse(await boardAnswer());
    expect(board.entries.map((entry: { team: string; score: number; submissionCount: number }) => [entry.team, entry.score, entry.submissionCount])).toEqual([
      [teams.leader.team.name, 0.85, 2],
      [teams.improver.team.name, 0.7, 1],
    ]);
    expect(board.frozenFrom).not.toBeNull();
  });

  it("does not count a team whose only scores came after the freeze on the task cards", async () => {
    expect((await taskCatalog()).find((task) => task.slug === slug)?.teams).toBe(2);
    expect((await taskDetail(slug))?.teams).toBe(2);
  });

  it("tells no other team and no organiser's webhook of a post-freeze score; its own team hears of it", async () => {
    const deliveries = async () => db.webhookDelivery.findMany({ where: { webhookId: { in: webhookIds } }, select: { event: true, payload: true, webhook: { select: { teamId: true } } } });
    await db.webhookDelivery.deleteMany({ where: { webhookId: { in: webhookIds } } });
    await fanOutTrigger({ trigger: "submission-finished", submissionId: improverLate });
    await fanOutTrigger({ trigger: "submission-finished", submissionId: newcomerLate });
    // Only this task's: an organisers' webhook also hears of other tests' tasks.
    const sent = (await deliveries()).filter((row) => (row.payload as { data?: { task?: string } }).data?.task === slug);
    expect(sent.map((row) => [row.event, row.webhook.teamId])).toEqual([["submission.scored", teams.improver.team.id]]);
    expect(JSON.stringify(sent.filter((row) => row.webhook.teamId !== teams.improver.team.id))).not.toMatch(/0\.951|0\.938/);
  });

  it("shows the team its own new score, marked after the freeze", async () => {
    const own = await teamSubmissionsForTask({ teamId: teams.improver.team.id }, slug);
    const late = own.submissions.find((row) => row.id === improverLate)!;
    expect(late).toMatchObject({ afterFreeze: true, result: { score: HIDDEN_BETTER } });
    expect(own.submissions.find((row) => row.id !== improverLate)).toMatchObject({ afterFreeze: false });
  });
});

describe("after the close and the reveal", () => {
  it("shows every submission made before the close on every public channel", async () => {
    await db.task.update({ where: { id: taskId }, data: { closesAt: new Date(Date.now() - 1000) } });
    expect((await setPrivateRevealed(admin, slug, true)).message).toMatch(/is revealed/);
    const channels = await publicChannels();
    for (const channel of ["the leaderboard API", "the leaderboard API as another team", "the web server's early answer to an anonymous poll", "the chart's data", "the leaderboard page", "the public-board export"]) {
      expect(channels[channel], channel).toContain(String(HIDDEN_BETTER));
      expect(channels[channel], channel).toContain(teams.newcomer.team.name);
    }
    const board = JSON.parse(channels["the leaderboard API"]);
    expect(board.frozenFrom).toBeNull();
    expect(board.entries.map((entry: { team: string; score: number; rank: number }) => [entry.team, entry.score, entry.rank])).toEqual([
      [teams.improver.team.name, HIDDEN_BETTER, 1],
      [teams.newcomer.team.name, HIDDEN_NEWCOMER, 2],
      [teams.leader.team.name, 0.85, 3],
    ]);
    expect((await taskCatalog()).find((task) => task.slug === slug)?.teams).toBe(3);
    const own = await teamSubmissionsForTask({ teamId: teams.improver.team.id }, slug);
    expect(own.submissions.find((row) => row.id === improverLate)).toMatchObject({ afterFreeze: false });
  });

  it("goes back to the frozen board if the organisers hide the private board again", async () => {
    await setPrivateRevealed(admin, slug, false);
    forgetLeaderboards(slug);
    const board = JSON.parse(await boardAnswer());
    expect(board.entries.map((entry: { team: string }) => entry.team)).toEqual([teams.leader.team.name, teams.improver.team.name]);
  });
});
