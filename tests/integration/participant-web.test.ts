import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { SessionUser } from "@/lib/auth/session";

// The participants' pages' data functions, actions and routes, for a signed-out visitor, a
// participant, a member of another team and an organiser. Pages and actions read the session
// through Next's request scope, which a test cannot enter, so currentUser() is the seam replaced
// for them; route handlers get a real signed session cookie. Everything behind is real.
const session = vi.hoisted(() => ({ user: null as SessionUser | null }));
vi.mock("@/lib/auth/session", async (importOriginal) => {
  const { redirect } = await import("next/navigation");
  return {
    ...(await importOriginal<typeof import("@/lib/auth/session")>()),
    currentUser: async () => session.user,
    // The original calls the module's own currentUser, which the mock cannot reach; same two lines here.
    requireUser: async (returnTo: string) => session.user ?? redirect(`/signin?next=${encodeURIComponent(returnTo)}`),
  };
});
vi.mock("next/cache", () => ({ revalidatePath: () => {} }));
vi.mock("next/headers", () => ({ headers: async () => new Headers(), cookies: async () => ({ get: () => undefined, getAll: () => [] }) }));

const { db } = await import("@/lib/db");
const { env } = await import("@/lib/env");
const { createUser } = await import("@/lib/accounts/users");
const { publishSubmissionStatus } = await import("@/lib/events/submission-events");
const teams = await import("@/lib/teams/membership");
const tokens = await import("@/lib/auth/api-token-list");
const { signUpParticipant } = await import("@/lib/accounts/sign-up");
const { taskCatalog, taskDetail } = await import("@/lib/tasks/catalog");
const { teamSubmissionsForTask } = await import("@/lib/submissions/team-list");
const { bestScoreOverTime } = await import("@/lib/leaderboard/history");
const teamActions = await import("@/app/team/actions");
const tokenActions = await import("@/app/tokens/actions");
const { GET: submissionsRoute } = await import("@/app/api/tasks/[task]/submissions/route");
const { GET: submissionEventsRoute } = await import("@/app/api/tasks/[task]/submissions/events/route");
const { GET: leaderboardEventsRoute } = await import("@/app/api/tasks/[task]/leaderboard/events/route");
const { GET: trainingDataRoute } = await import("@/app/api/tasks/[task]/training-data/route");
const TeamPage = (await import("@/app/team/page")).default;
const TokensPage = (await import("@/app/tokens/page")).default;
const MySubmissionsPage = (await import("@/app/tasks/[task]/submissions/page")).default;
const LeaderboardPage = (await import("@/app/tasks/[task]/leaderboard/page")).default;
const TasksPage = (await import("@/app/tasks/page")).default;
const SubmissionDetailPage = (await import("@/app/tasks/[task]/submissions/[id]/page")).default;
const { int64Labels, participantWithTeam, randomRows, taskWithDataset, uniqueName } = await import("./support/fixtures");
const { sessionCookie } = await import("./support/session-cookie");
const { readEvents } = await import("./support/server-sent-events");
const { textOf } = await import("./support/element-text");
const { submissionEventsChannel } = await import("@goat/contracts/submission-events");

/** Route handlers read the session from the request's cookie: send the signed-in user's real one. */
async function signedInHeaders(headers: Record<string, string> = {}): Promise<Record<string, string>> {
  return session.user ? { ...headers, cookie: await sessionCookie(session.user) } : headers;
}

type Participant = Awaited<ReturnType<typeof participantWithTeam>>;
let alpha: Participant;
let beta: Participant;
let admin: SessionUser;
let slug: string;
let alphaSubmission: number;
let betaSubmission: number;

function asSessionUser(p: Participant): SessionUser {
  return { id: p.user.id, email: p.user.email, name: p.user.name, role: "PARTICIPANT", team: { id: p.team.id, name: p.team.name } };
}

async function loneUser(role: "PARTICIPANT" | "ADMIN" = "PARTICIPANT"): Promise<SessionUser> {
  const user = await createUser({ email: `${uniqueName("lone")}@test.local`, name: "Lone", password: "lone-password", role });
  return { ...user, team: null };
}

/** A scored submission written directly (the pipeline tests cover how results are made). */
async function scoredSubmission(teamId: number, userId: number, taskId: number, score: number) {
  const submission = await db.submission.create({
    data: { taskId, teamId, userId, fileName: "m.onnx", sha256: "ab".repeat(32), sizeBytes: 123, storageKey: `secret/storage/${uniqueName("k")}.onnx`, paramCount: 10, status: "SCORED", startedAt: new Date(), finishedAt: new Date(), attempts: 1 },
  });
  await db.result.create({
    data: { submissionId: submission.id, publicMetrics: { accuracy: score }, privateMetrics: { accuracy: score / 2 }, publicScore: score, privateScore: score / 2, latencyP50Ms: 1, latencyP95Ms: 2, modelBytes: 123, paramCount: 10, receipt: { timings: { totalMs: 5 } } },
  });
  return submission.id;
}

function ctx<T extends Record<string, string>>(params: T) {
  return { params: Promise.resolve(params) };
}

/**
 * Resolves once this process's event subscriber (lib/events/submission-events.ts, started by the
 * stream) is subscribed: Redis answers commands on one connection in order, so the answer to this
 * SUBSCRIBE (a no-op for a channel already subscribed) comes after the answer to the stream's own.
 */
async function eventSubscriberReady(): Promise<void> {
  const subscriber = (globalThis as { goatEventSubscriber?: { redis: { subscribe(channel: string): Promise<unknown> } } }).goatEventSubscriber;
  if (!subscriber) throw new Error("the event stream did not start the subscriber");
  await subscriber.redis.subscribe(submissionEventsChannel(env().QUEUE_PREFIX));
}

beforeAll(async () => {
  alpha = await participantWithTeam();
  beta = await participantWithTeam();
  admin = await loneUser("ADMIN");
  const task = await taskWithDataset({ inputs: randomRows(20, 4, 1), labels: int64Labels(Array.from({ length: 20 }, (_, i) => i % 3)) });
  slug = task.slug;
  alphaSubmission = await scoredSubmission(alpha.team.id, alpha.user.id, task.id, 0.8);
  betaSubmission = await scoredSubmission(beta.team.id, beta.user.id, task.id, 0.9);
});

afterAll(async () => {
  session.user = null;
});

describe("sign-up", () => {
  it("creates a participant (never an admin), refuses a taken email and mismatched passwords with field errors", async () => {
    const email = `${uniqueName("new")}@test.local`;
    const created = await signUpParticipant({ name: "New", email, password: "long-enough", confirmPassword: "long-enough", role: "ADMIN" }, "198.51.100.7");
    expect(created).toEqual({ ok: true, email });
    expect((await db.user.findUniqueOrThrow({ where: { email } })).role).toBe("PARTICIPANT");
    const again = await signUpParticipant({ name: "New", email, password: "long-enough", confirmPassword: "long-enough" }, "198.51.100.7");
    expect(again).toMatchObject({ ok: false, fieldErrors: { email: [expect.stringContaining("exists")] } });
    const mismatch = await signUpParticipant({ name: "X", email: "x@test.local", password: "long-enough", confirmPassword: "different" }, "198.51.100.7");
    expect(mismatch).toMatchObject({ ok: false, fieldErrors: { confirmPassword: ["the passwords differ"] } });
    const short = await signUpParticipant({ name: "X", email: "not-an-email", password: "short", confirmPassword: "short" }, "198.51.100.7");
    expect(short.ok).toBe(false);
    expect(Object.keys((short as { fieldErrors: object }).fieldErrors).sort()).toEqual(["email", "password"]);
  });
});

describe("teams", () => {
  it("a user creates a team, a second joins with the invite code, sees both members, and leaves", async () => {
    const ada = await loneUser();
    const bob = await loneUser();
    const team = await teams.createTeamForUser(ada, uniqueName("Team"));
    const adaView = await teams.teamOfUser(ada);
    expect(adaView).toMatchObject({ id: team.id, name: team.name, members: [{ userId: ada.id, isYou: true }] });

    await expect(teams.joinTeamWithInviteCode(bob, "wrong-code")).rejects.toMatchObject({ status: 404 });
    await teams.joinTeamWithInviteCode(bob, adaView!.inviteCode);
    const bobView = await teams.teamOfUser(bob);
    expect(bobView!.members.map((member) => member.userId)).toEqual([ada.id, bob.id]);

    // One team per person: no second team, no joining another.
    await expect(teams.createTeamForUser(bob, uniqueName("Other"))).rejects.toMatchObject({ status: 409 });
    const betaCode = (await db.team.findUniqueOrThrow({ where: { id: beta.team.id } })).inviteCode;
    await expect(teams.joinTeamWithInviteCode(bob, betaCode)).rejects.toMatchObject({ status: 409 });

    expect(await teams.leaveTeam(bob)).toEqual({ left: team.name });
    expect(await teams.teamOfUser(bob)).toBeNull();
    expect((await teams.teamOfUser(ada))!.members).toHaveLength(1);
  });

  it("the team actions need a session and turn refusals into form state", async () => {
    session.user = null;
    const form = new FormData();
    form.set("name", uniqueName("Team"));
    expect(await teamActions.createTeamAction({}, form)).toEqual({ message: "Your session ended; sign in again." });

    session.user = await loneUser();
    form.set("name", "x");
    expect((await teamActions.createTeamAction({}, form)).fieldErrors?.name?.[0]).toContain("at least 2");
    form.set("name", uniqueName("Team"));
    expect(await teamActions.createTeamAction({}, form)).toEqual({ ok: true });
    const join = new FormData();
    join.set("inviteCode", "nope-nope");
    expect((await teamActions.joinTeamAction({}, join)).message).toMatch(/No team has this invite code/);
    expect(await teamActions.leaveTeamAction({}, new FormData())).toEqual({ ok: true });
    session.user = null;
  });
});

describe("API tokens", () => {
  it("lists only the user's own tokens, without hashes; revoking another user's token is not found", async () => {
    const owner = asSessionUser(alpha);
    const created = await tokens.createApiTokenForUser(owner, "laptop");
    expect(created.token).toMatch(/^goat_/);
    const list = await tokens.apiTokensOfUser(owner);
    expect(list.map((token) => token.name).sort()).toEqual(["laptop", "test"]);
    expect(JSON.stringify(list)).not.toContain(created.token);
    expect(Object.keys(list[0]).sort()).toEqual(["createdAt", "expiresAt", "id", "lastUsedAt", "name", "prefix", "revokedAt", "state"]);
    expect((await tokens.apiTokensOfUser(asSessionUser(beta))).map((token) => token.name)).toEqual(["test"]);

    await expect(tokens.revokeApiTokenOfUser(asSessionUser(beta), created.id)).rejects.toMatchObject({ status: 404 });
    await tokens.revokeApiTokenOfUser(owner, created.id);
    expect((await tokens.apiTokensOfUser(owner)).find((token) => token.id === created.id)!.state).toBe("revoked");
    await expect(tokens.revokeApiTokenOfUser(owner, created.id)).rejects.toMatchObject({ status: 404 });
  });

  it("the token actions: signed out refused; a name is required; the secret comes back once", async () => {
    session.user = null;
    const form = new FormData();
    form.set("name", "ci");
    expect((await tokenActions.createTokenAction({}, form)).message).toMatch(/sign in/);
    session.user = asSessionUser(beta);
    form.set("name", "  ");
    expect(await tokenActions.createTokenAction({}, form)).toMatchObject({ fieldErrors: { name: [expect.any(String)] } });
    form.set("name", "ci");
    const created = await tokenActions.createTokenAction({}, form);
    expect(created.created?.token).toMatch(/^goat_/);
    const revoke = new FormData();
    revoke.set("tokenId", String((await db.apiToken.findFirstOrThrow({ where: { userId: alpha.user.id, revokedAt: null } })).id));
    expect((await tokenActions.revokeTokenAction({}, revoke)).message).toMatch(/no active token of yours/);
    session.user = null;
  });
});

describe("tasks", () => {
  it("the catalog and task page show public facts only (no dataset paths, seeds or storage keys)", async () => {
    const catalog = await taskCatalog();
    const entry = catalog.find((task) => task.slug === slug)!;
    expect(entry).toMatchObject({ phase: "open", teams: 2, rankMetric: "accuracy", direction: "MAXIMIZE" });
    const detail = await taskDetail(slug);
    expect(detail).toMatchObject({ slug, hasTrainingData: false, inputSpec: [{ name: "input", dtype: "float32", shape: [-1, 4] }] });
    const text = JSON.stringify(detail);
    for (const secret of ["splitSeed", "datasetVersion", "trainingDataFile", env().DATA_DIR, "storage"]) expect(text).not.toContain(secret);
    expect(await taskDetail("no-such-task")).toBeNull();
  });

  it("training data: streams DATA_DIR/{slug}/train.npz to anyone, and never another file of that directory", async () => {
    const dir = path.join(env().DATA_DIR, slug);
    await fs.writeFile(path.join(dir, "train.npz"), "PK-fake-npz");
    expect((await trainingDataRoute(new Request("http://x/"), ctx({ task: slug }))).status).toBe(404);
    await db.task.update({ where: { slug }, data: { trainingDataFile: "train.npz" } });
    const response = await trainingDataRoute(new Request("http://x/"), ctx({ task: slug }));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toBe(`attachment; filename="${slug}-train.npz"`);
    expect(await response.text()).toBe("PK-fake-npz");
    for (const file of ["labels.npy", "../train.npz", "inputs.npz", "LABELS.npz"]) {
      await db.task.update({ where: { slug }, data: { trainingDataFile: file } });
      expect((await trainingDataRoute(new Request("http://x/"), ctx({ task: slug }))).status, file).toBe(404);
    }
    await db.task.update({ where: { slug }, data: { trainingDataFile: null } });
    expect((await trainingDataRoute(new Request("http://x/"), ctx({ task: "no-such-task" }))).status).toBe(404);
  });
});

describe("my submissions", () => {
  it("shows the model's peak memory beside latency and size, in the API and on the submission page ('not measured' for older results)", async () => {
    session.user = asSessionUser(alpha);
    const render = async () => textOf(await SubmissionDetailPage({ params: Promise.resolve({ task: slug, id: String(alphaSubmission) }) }));
    try {
      expect(await render()).toContain("not measured");
      await db.result.update({ where: { submissionId: alphaSubmission }, data: { peakMemoryBytes: 12n * 1048576n, peakGpuMemoryBytes: 3n * 1073741824n } });
      expect(await render()).toContain("12.0 MB, GPU 3.00 GB");
      const mine = await teamSubmissionsForTask({ teamId: alpha.team.id }, slug);
      expect(mine.submissions[0].result).toMatchObject({ peakMemoryBytes: 12 * 1048576, peakGpuMemoryBytes: 3 * 1073741824 });
    } finally {
      await db.result.update({ where: { submissionId: alphaSubmission }, data: { peakMemoryBytes: null, peakGpuMemoryBytes: null } });
      session.user = null;
    }
  });

  it("a team sees its own submissions only, newest first, without storage keys or private scores before the reveal", async () => {
    const mine = await teamSubmissionsForTask({ teamId: alpha.team.id }, slug);
    expect(mine.submissions.map((row) => row.id)).toEqual([alphaSubmission]);
    expect(mine.submissions[0]).toMatchObject({ status: "SCORED", result: { score: 0.8, metrics: { accuracy: 0.8 }, evaluationMs: 5 } });
    expect(mine.submissions[0].result).not.toHaveProperty("privateScore");
    expect(JSON.stringify(mine)).not.toContain("secret/storage");
    await expect(teamSubmissionsForTask({ teamId: null }, slug)).rejects.toMatchObject({ status: 403, code: "NO_TEAM" });
  });

  it("the JSON route: signed out 401, participant and Bearer token get their team's rows, an organiser without a team 403", async () => {
    const request = async (headers: Record<string, string> = {}) => new Request(`http://x/api/tasks/${slug}/submissions`, { headers: await signedInHeaders(headers) });
    session.user = null;
    expect((await submissionsRoute(await request(), ctx({ task: slug }))).status).toBe(401);
    session.user = asSessionUser(alpha);
    const alphaBody = await (await submissionsRoute(await request(), ctx({ task: slug }))).json();
    expect(alphaBody.submissions.map((row: { id: number }) => row.id)).toEqual([alphaSubmission]);
    session.user = asSessionUser(beta);
    const betaBody = await (await submissionsRoute(await request(), ctx({ task: slug }))).json();
    expect(betaBody.submissions.map((row: { id: number }) => row.id)).toEqual([betaSubmission]);
    session.user = null;
    const byToken = await (await submissionsRoute(await request({ authorization: `Bearer ${alpha.token}` }), ctx({ task: slug }))).json();
    expect(byToken.teamId).toBe(alpha.team.id);
    session.user = admin;
    const adminAnswer = await submissionsRoute(await request(), ctx({ task: slug }));
    expect(adminAnswer.status).toBe(403);
    expect((await adminAnswer.json()).error.code).toBe("NO_TEAM");
    session.user = asSessionUser(alpha);
    expect((await submissionsRoute(await request(), ctx({ task: "no-such-task" }))).status).toBe(404);
    session.user = null;
  });

  it("the event stream: signed out 401; a team gets its own submissions' events and only a bare 'queue' tick for another team's", async () => {
    session.user = null;
    expect((await submissionEventsRoute(new Request("http://x/"), ctx({ task: slug }))).status).toBe(401);

    session.user = asSessionUser(alpha);
    const abort = new AbortController();
    const response = await submissionEventsRoute(new Request("http://x/", { signal: abort.signal, headers: await signedInHeaders() }), ctx({ task: slug }));
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    session.user = null;
    const reading = readEvents(response, 2, 5000);
    await eventSubscriberReady();
    await publishSubmissionStatus(betaSubmission);
    await publishSubmissionStatus(alphaSubmission);
    const events = await reading;
    abort.abort();
    expect(events).toEqual([
      { event: "queue", data: { at: expect.any(String) } },
      { event: "submission", data: { submissionId: alphaSubmission, status: "SCORED", at: expect.any(String) } },
    ]);
  });
});

describe("leaderboard", () => {
  it("the public event stream says that a submission of the task was scored, with the team's public row only", async () => {
    session.user = null;
    const abort = new AbortController();
    const response = await leaderboardEventsRoute(new Request("http://x/", { signal: abort.signal }), ctx({ task: slug }));
    expect(response.status).toBe(200);
    const reading = readEvents(response, 1, 5000);
    await eventSubscriberReady();
    await publishSubmissionStatus(betaSubmission);
    const events = await reading;
    abort.abort();
    expect(events).toEqual([
      {
        event: "scored",
        data: {
          task: slug,
          at: expect.any(String),
          public: {
            rank: 1, teamId: beta.team.id, team: beta.team.name, score: 0.9, submissionId: betaSubmission, submittedAt: expect.any(String), submissionCount: 1,
            interval: null, statisticallyTied: false, scoringVersion: 1, olderScoring: false,
          },
          scoringVersion: 1,
          rescoring: null,
        },
      },
    ]);
    expect((await leaderboardEventsRoute(new Request("http://x/"), ctx({ task: "no-such-task" }))).status).toBe(404);
  });

  it("best score over time follows the leaderboard's order and each team's running best", async () => {
    const history = await bestScoreOverTime(slug);
    expect(history.map((series) => series.teamId)).toEqual([beta.team.id, alpha.team.id]);
    expect(history[0].points.map((point) => point.best)).toEqual([0.9]);
  });
});

describe("pages", () => {
  async function redirectOf(render: () => Promise<unknown>): Promise<string | null> {
    try {
      await render();
      return null;
    } catch (error) {
      const digest = (error as { digest?: string }).digest ?? "";
      if (!digest.startsWith("NEXT_REDIRECT")) throw error;
      return digest.split(";")[2];
    }
  }

  it("team, tokens and my-submissions send a signed-out visitor to sign-in (and back); tasks and the leaderboard do not", async () => {
    session.user = null;
    expect(await redirectOf(() => TeamPage())).toBe("/signin?next=%2Fteam");
    expect(await redirectOf(() => TokensPage())).toBe("/signin?next=%2Ftokens");
    expect(await redirectOf(() => MySubmissionsPage({ params: Promise.resolve({ task: slug }) }))).toBe(`/signin?next=${encodeURIComponent(`/tasks/${slug}/submissions`)}`);
    expect(await redirectOf(() => TasksPage())).toBeNull();
    expect(await redirectOf(() => LeaderboardPage({ params: Promise.resolve({ task: slug }), searchParams: Promise.resolve({}) }))).toBeNull();
  });

  it("the private board is shown only once revealed; before that ?board=private gives the public one", async () => {
    session.user = null;
    const render = async (board?: string) => textOf(await LeaderboardPage({ params: Promise.resolve({ task: slug }), searchParams: Promise.resolve({ board }) }));
    expect(await render("private")).not.toContain("Private leaderboard");
    await db.task.update({ where: { slug }, data: { privateRevealedAt: new Date() } });
    expect(await render("private")).toContain("Private leaderboard");
    expect(await render()).not.toContain("Private leaderboard");
    await db.task.update({ where: { slug }, data: { privateRevealedAt: null } });
  });
});
