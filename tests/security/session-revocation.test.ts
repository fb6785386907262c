import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

// Attacks: (1) a session cookie copied before sign-out keeps working for its 7 days; (2) a disabled
// or demoted user's open session keeps its powers; (3) an open event stream keeps delivering a
// team's events after its token is revoked, its user disabled, or the user left the team.
// Pages and server actions read the cookie through next/headers: it is given the test's cookie jar.
const jar = vi.hoisted(() => ({ cookies: new Map<string, string>() }));
vi.mock("next/headers", () => ({
  cookies: async () => ({ getAll: () => [...jar.cookies].map(([name, value]) => ({ name, value })) }),
  headers: async () => new Headers(),
}));

process.env.EVENT_STREAM_RECHECK_MS = "100";
const { resetEnvForTests } = await import("@/lib/env");
resetEnvForTests();
const { db } = await import("@/lib/db");
const { currentUser } = await import("@/lib/auth/session");
const { revokeApiToken } = await import("@/lib/auth/api-token");
const { createUser } = await import("@/lib/accounts/users");
const { setUserDisabled, setUserRole } = await import("@/lib/admin/people");
const { leaveTeam } = await import("@/lib/teams/membership");
const { publishSubmissionStatus } = await import("@/lib/events/submission-events");
const { GET: submissionsRoute } = await import("@/app/api/tasks/[task]/submissions/route");
const { GET: submissionEventsRoute } = await import("@/app/api/tasks/[task]/submissions/events/route");
const { int64Labels, participantWithTeam, randomRows, taskWithDataset, uniqueName } = await import("../integration/support/fixtures");
const { signInThroughNextAuth, signOutThroughNextAuth } = await import("./support/next-auth");
const { readEventStream, waitFor } = await import("./support/event-reader");

const PASSWORD = "test-password-1";
let slug: string;
let taskId: number;
let organiser: { id: number; email: string; name: string; role: "ADMIN"; team: null };

beforeAll(async () => {
  // A team merge deadline still to come, so a member who submitted may leave (lib/teams/rules.ts).
  const task = await taskWithDataset({ inputs: randomRows(6, 4, 5), labels: int64Labels([0, 1, 2, 0, 1, 2]), teamMergeDeadline: new Date(Date.now() + 24 * 3600 * 1000) });
  slug = task.slug;
  taskId = task.id;
  const admin = await createUser({ email: `${uniqueName("org")}@test.local`, name: "Organiser", password: "organiser-pass-1", role: "ADMIN" });
  organiser = { ...admin, role: "ADMIN", team: null };
});

afterAll(() => {
  delete process.env.EVENT_STREAM_RECHECK_MS;
  resetEnvForTests();
});

const params = () => ({ params: Promise.resolve({ task: slug }) });
const listWith = (headers: Record<string, string>) => submissionsRoute(new Request(`http://localhost:8000/api/tasks/${slug}/submissions`, { headers }), params());

async function asPage(cookie: string) {
  const [name, value] = cookie.split(/=(.*)/s);
  jar.cookies = new Map([[name, value]]);
  return currentUser();
}

async function queuedSubmission(teamId: number, userId: number) {
  const row = await db.submission.create({
    data: { taskId, teamId, userId, fileName: "m.onnx", sha256: "cd".repeat(32), sizeBytes: 1, storageKey: "none", paramCount: 1, status: "QUEUED" },
  });
  return row.id;
}

describe("sessions end on the server", () => {
  it("a cookie saved before sign-out is refused afterwards, by routes and pages alike", async () => {
    const member = await participantWithTeam();
    const cookie = await signInThroughNextAuth(member.user.email, PASSWORD);
    expect(cookie).not.toBeNull();
    expect((await listWith({ cookie: cookie! })).status).toBe(200);
    expect((await asPage(cookie!))?.id).toBe(member.user.id);

    await signOutThroughNextAuth(cookie!);

    const replay = await listWith({ cookie: cookie! });
    expect(replay.status).toBe(401);
    expect((await replay.json()).error.code).toBe("UNAUTHORIZED");
    expect(await asPage(cookie!)).toBeNull();
    // Signing in again works, with a new cookie; the old one stays dead.
    const fresh = await signInThroughNextAuth(member.user.email, PASSWORD);
    expect((await listWith({ cookie: fresh! })).status).toBe(200);
    expect((await listWith({ cookie: cookie! })).status).toBe(401);
  });

  it("disabling a user or changing their role ends their open sessions, even after re-enabling", async () => {
    const member = await participantWithTeam();
    const cookie = (await signInThroughNextAuth(member.user.email, PASSWORD))!;
    await setUserDisabled(organiser, member.user.id, true);
    await setUserDisabled(organiser, member.user.id, false);
    expect((await listWith({ cookie })).status).toBe(401);

    const promoted = await participantWithTeam();
    const promotedCookie = (await signInThroughNextAuth(promoted.user.email, PASSWORD))!;
    await setUserRole(organiser, promoted.user.id, "ADMIN");
    expect(await asPage(promotedCookie)).toBeNull();
    expect((await listWith({ cookie: promotedCookie })).status).toBe(401);
  });
});

describe("an open event stream re-checks its caller and closes", () => {
  async function openStream(headers: Record<string, string>) {
    const abort = new AbortController();
    const response = await submissionEventsRoute(new Request(`http://localhost:8000/api/tasks/${slug}/submissions/events`, { headers, signal: abort.signal }), params());
    expect(response.status).toBe(200);
    return { stream: readEventStream(response), abort };
  }

  /** The stream delivers the team's event, then closes after `cut`, and delivers nothing published afterwards. */
  async function expectCutOff(headers: Record<string, string>, teamId: number, userId: number, cut: () => Promise<unknown>) {
    const { stream, abort } = await openStream(headers);
    const before = await queuedSubmission(teamId, userId);
    await waitFor("the stream to subscribe and deliver the first event", async () => {
      await publishSubmissionStatus(before);
      return stream.events.some((event) => event.data.submissionId === before);
    });
    await cut();
    await waitFor("the server to close the stream", () => stream.closed());
    const after = await queuedSubmission(teamId, userId);
    await publishSubmissionStatus(after);
    expect(stream.events.map((event) => event.data.submissionId)).not.toContain(after);
    abort.abort();
  }

  it("after its API token is revoked", async () => {
    const member = await participantWithTeam();
    await expectCutOff({ authorization: `Bearer ${member.token}` }, member.team.id, member.user.id, () => revokeApiToken(member.user.id, member.tokenId));
  });

  it("after its user is disabled (session cookie)", async () => {
    const member = await participantWithTeam();
    const cookie = (await signInThroughNextAuth(member.user.email, PASSWORD))!;
    await expectCutOff({ cookie }, member.team.id, member.user.id, () => setUserDisabled(organiser, member.user.id, true));
  });

  it("after its user left the team (API token)", async () => {
    const member = await participantWithTeam();
    const self = { id: member.user.id, email: member.user.email, name: member.user.name, role: "PARTICIPANT" as const, team: { id: member.team.id, name: member.team.name } };
    await expectCutOff({ authorization: `Bearer ${member.token}` }, member.team.id, member.user.id, () => leaveTeam(self));
  });

  it("after sign-out (session cookie)", async () => {
    const member = await participantWithTeam();
    const cookie = (await signInThroughNextAuth(member.user.email, PASSWORD))!;
    await expectCutOff({ cookie }, member.team.id, member.user.id, () => signOutThroughNextAuth(cookie));
  });
});
