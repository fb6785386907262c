import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { SessionUser } from "@/lib/auth/session";

// What competition users expect beyond the core loop: named submissions with a detail page,
// filters, pages and downloads; invite links; organisers' announcements, live. Real Postgres,
// Redis, storage and route handlers; pages and actions get the session through currentUser(),
// the one seam (as in participant-web.test.ts).
const session = vi.hoisted(() => ({ user: null as SessionUser | null }));
vi.mock("@/lib/auth/session", async (importOriginal) => {
  const { redirect } = await import("next/navigation");
  return {
    ...(await importOriginal<typeof import("@/lib/auth/session")>()),
    currentUser: async () => session.user,
    requireUser: async (returnTo: string) => session.user ?? redirect(`/signin?next=${encodeURIComponent(returnTo)}`),
  };
});
vi.mock("next/cache", () => ({ revalidatePath: () => {} }));

const { db } = await import("@/lib/db");
const { createUser } = await import("@/lib/accounts/users");
const { evaluationQueue } = await import("@/lib/queue/evaluation-queue");
const { buildMlp } = await import("@/tools/onnx/build-model");
const { teamSubmissionsForTask, parseTeamSubmissionsQuery, SUBMISSIONS_PAGE_SIZE } = await import("@/lib/submissions/team-list");
const { teamForInviteCode } = await import("@/lib/teams/membership");
const announcements = await import("@/lib/tasks/announcements");
const { POST: submitRoute } = await import("@/app/submit/[task]/route");
const { GET: statusRoute } = await import("@/app/submit/[task]/status/[id]/route");
const { GET: submissionsRoute } = await import("@/app/api/tasks/[task]/submissions/route");
const { PATCH: labelsRoute } = await import("@/app/api/tasks/[task]/submissions/[id]/route");
const { GET: modelRoute } = await import("@/app/api/tasks/[task]/submissions/[id]/model/route");
const { GET: announcementsRoute } = await import("@/app/api/tasks/[task]/announcements/route");
const { GET: announcementEventsRoute } = await import("@/app/api/tasks/[task]/announcements/events/route");
const { updateSubmissionLabelsAction } = await import("@/app/tasks/[task]/submissions/actions");
const { joinTeamByLinkAction } = await import("@/app/team/actions");
const { postAnnouncementAction, withdrawAnnouncementAction } = await import("@/app/admin/announcements/actions");
const SubmissionDetailPage = (await import("@/app/tasks/[task]/submissions/[id]/page")).default;
const { readEvents } = await import("./support/server-sent-events");
const { participantWithTeam, int64Labels, randomRows, taskWithDataset, uniqueName } = await import("./support/fixtures");

type Participant = Awaited<ReturnType<typeof participantWithTeam>>;
let task: Awaited<ReturnType<typeof taskWithDataset>>;
let otherTask: Awaited<ReturnType<typeof taskWithDataset>>;
let alpha: Participant;
let beta: Participant;
let admin: SessionUser;
const BASE = "http://localhost:8000";
const model = buildMlp({ sizes: [4, 8, 3], seed: 3 });

function ctx<T extends Record<string, string>>(params: T) {
  return { params: Promise.resolve(params) };
}

function asSessionUser(p: Participant): SessionUser {
  return { id: p.user.id, email: p.user.email, name: p.user.name, role: "PARTICIPANT", team: { id: p.team.id, name: p.team.name } };
}

async function uploadWithLabels(token: string, fields: Record<string, string>) {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  form.append("file", new Blob([model as Uint8Array<ArrayBuffer>]), "mlp.onnx");
  const response = await submitRoute(new Request(`${BASE}/submit/${task.slug}`, { method: "POST", body: form, headers: { authorization: `Bearer ${token}` } }), ctx({ task: task.slug }));
  return { status: response.status, body: await response.json() };
}

function bearer(p: Participant): Record<string, string> {
  return { authorization: `Bearer ${p.token}` };
}

/** Rows written directly, for the filter and the pages (the pipeline tests cover how they are made). */
async function rows(teamId: number, userId: number, statuses: ("QUEUED" | "FAILED" | "CANCELLED")[]) {
  for (const status of statuses) {
    await db.submission.create({
      data: { taskId: task.id, teamId, userId, fileName: "m.onnx", sha256: "cd".repeat(32), sizeBytes: 10, storageKey: "models/none.onnx", paramCount: 1, status, ...(status === "FAILED" ? { failureKind: "PARTICIPANT", message: "wrong shape" } : {}) },
    });
  }
}

/** Every string in a rendered server component's element tree (children and props alike). */
function stringsOf(node: unknown, seen = new Set<unknown>()): string {
  if (typeof node === "string" || typeof node === "number") return String(node);
  if (!node || typeof node !== "object" || seen.has(node)) return "";
  seen.add(node);
  if (Array.isArray(node)) return node.map((each) => stringsOf(each, seen)).join(" ");
  const props = (node as { props?: Record<string, unknown> }).props;
  return props ? Object.values(props).map((each) => stringsOf(each, seen)).join(" ") : "";
}

beforeAll(async () => {
  const dataset = { inputs: randomRows(12, 4, 5), labels: int64Labels(Array.from({ length: 12 }, (_, i) => i % 3)), dailySubmissionLimit: 50 };
  task = await taskWithDataset(dataset);
  otherTask = await taskWithDataset(dataset);
  alpha = await participantWithTeam();
  beta = await participantWithTeam();
  const organiser = await createUser({ email: `${uniqueName("org")}@test.local`, name: "Olga Organiser", password: "organiser-pass", role: "ADMIN" });
  admin = { ...organiser, role: "ADMIN", team: null };
});

afterAll(async () => {
  session.user = null;
  await evaluationQueue().close();
});

describe("submission names, descriptions, detail and download", () => {
  let id: number;

  it("an upload carries the multipart fields name and description; they are trimmed, stored and answered", async () => {
    const accepted = await uploadWithLabels(alpha.token, { name: "  MLP 8 hidden  ", description: "seed 3, no dropout" });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ name: "MLP 8 hidden", description: "seed 3, no dropout" });
    id = accepted.body.id;
    expect(await db.submission.findUniqueOrThrow({ where: { id }, select: { name: true, description: true } })).toEqual({ name: "MLP 8 hidden", description: "seed 3, no dropout" });
    const status = await (await statusRoute(new Request(`${BASE}/submit/${task.slug}/status/${id}`, { headers: bearer(alpha) }), ctx({ task: task.slug, id: String(id) }))).json();
    expect(status).toMatchObject({ id, name: "MLP 8 hidden", description: "seed 3, no dropout" });
    const plain = await uploadWithLabels(alpha.token, {});
    expect(plain.body).toMatchObject({ status: "QUEUED", name: null, description: null });
  });

  it("a name over 100 or a description over 1000 characters is refused with 422 before anything is stored", async () => {
    const before = await db.submission.count();
    const longName = await uploadWithLabels(alpha.token, { name: "n".repeat(101) });
    expect(longName.status).toBe(422);
    expect(longName.body.error).toMatchObject({ code: "VALIDATION_FAILED", message: "The name may be at most 100 characters." });
    const longDescription = await uploadWithLabels(alpha.token, { description: "d".repeat(1001) });
    expect(longDescription.body.error.fields).toEqual([{ path: "description", message: "The description may be at most 1000 characters." }]);
    expect(await db.submission.count()).toBe(before);
  });

  it("the team edits the labels (PATCH and the page's action); a field left out stays; another team gets 404 and changes nothing", async () => {
    const patch = (who: Participant, body: unknown) =>
      labelsRoute(new Request(`${BASE}/api/tasks/${task.slug}/submissions/${id}`, { method: "PATCH", headers: { ...bearer(who), "content-type": "application/json" }, body: JSON.stringify(body) }), ctx({ task: task.slug, id: String(id) }));
    const renamed = await patch(alpha, { name: "MLP v2" });
    expect(renamed.status).toBe(200);
    expect(await renamed.json()).toEqual({ id, task: task.slug, name: "MLP v2", description: "seed 3, no dropout" });
    expect((await patch(beta, { name: "hijacked" })).status).toBe(404);
    expect((await patch(alpha, { name: "x".repeat(101) })).status).toBe(422);

    session.user = asSessionUser(alpha);
    const form = new FormData();
    for (const [key, value] of Object.entries({ task: task.slug, submissionId: String(id), name: "MLP v3", description: "" })) form.set(key, value);
    expect(await updateSubmissionLabelsAction({}, form)).toEqual({ ok: true });
    form.set("description", "z".repeat(1001));
    expect(await updateSubmissionLabelsAction({}, form)).toEqual({ fieldErrors: { description: ["The description may be at most 1000 characters."] } });
    expect(await db.submission.findUniqueOrThrow({ where: { id }, select: { name: true, description: true } })).toEqual({ name: "MLP v3", description: null });
  });

  it("the team downloads its own model, byte for byte; another team gets 404; signed out 401", async () => {
    const download = (headers: Record<string, string>) => modelRoute(new Request(`${BASE}/api/tasks/${task.slug}/submissions/${id}/model`, { headers }), ctx({ task: task.slug, id: String(id) }));
    const own = await download(bearer(alpha));
    expect(own.status).toBe(200);
    expect(own.headers.get("content-disposition")).toBe(`attachment; filename="${task.slug}-${id}-mlp.onnx"`);
    const bytes = new Uint8Array(await own.arrayBuffer());
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(createHash("sha256").update(model).digest("hex"));
    expect((await download(bearer(beta))).status).toBe(404);
    expect((await download({})).status).toBe(401);
  });

  it("the detail page shows the name, hash and download link to the team, and is a 404 for another team", async () => {
    session.user = asSessionUser(alpha);
    const page = stringsOf(await SubmissionDetailPage({ params: Promise.resolve({ task: task.slug, id: String(id) }) }));
    expect(page).toContain("MLP v3");
    expect(page).toContain(createHash("sha256").update(model).digest("hex"));
    expect(page).toContain(`/api/tasks/${task.slug}/submissions/${id}/model`);
    session.user = asSessionUser(beta);
    await expect(SubmissionDetailPage({ params: Promise.resolve({ task: task.slug, id: String(id) }) })).rejects.toMatchObject({ digest: expect.stringContaining("404") });
  });
});

describe("my submissions: status filter and pages", () => {
  it("filters by status, counts each status, pages newest first, and the chart's scores span every page", async () => {
    const team = await participantWithTeam();
    // The oldest, a scored one, lands on page 2; the chart still gets its score on page 1.
    const scored = await db.submission.create({
      data: { taskId: task.id, teamId: team.team.id, userId: team.user.id, fileName: "m.onnx", sha256: "ef".repeat(32), sizeBytes: 10, storageKey: "models/none.onnx", paramCount: 1, status: "SCORED" },
    });
    await db.result.create({
      data: { submissionId: scored.id, publicMetrics: { accuracy: 0.7 }, privateMetrics: { accuracy: 0.6 }, publicScore: 0.7, privateScore: 0.6, latencyP50Ms: 1, latencyP95Ms: 2, modelBytes: 10, paramCount: 1, receipt: { timings: { totalMs: 5 } } },
    });
    await rows(team.team.id, team.user.id, [...Array(SUBMISSIONS_PAGE_SIZE + 5).fill("QUEUED"), "FAILED", "FAILED", "CANCELLED"]);
    const first = await teamSubmissionsForTask({ teamId: team.team.id }, task.slug);
    expect(first).toMatchObject({ page: 1, pageCount: 2, total: SUBMISSIONS_PAGE_SIZE + 9, status: null });
    expect(first.counts).toEqual({ QUEUED: SUBMISSIONS_PAGE_SIZE + 5, RUNNING: 0, SCORED: 1, FAILED: 2, CANCELLED: 1 });
    expect(first.submissions.map((row) => row.id)).not.toContain(scored.id);
    expect(first.scores).toEqual([{ id: scored.id, score: 0.7 }]);
    expect(first.submissions).toHaveLength(SUBMISSIONS_PAGE_SIZE);
    expect(first.submissions[0].status).toBe("CANCELLED"); // newest first
    const second = await teamSubmissionsForTask({ teamId: team.team.id }, task.slug, { page: 2 });
    expect(second.submissions).toHaveLength(9);
    expect(second.submissions.at(-1)!.id).toBe(scored.id);
    expect(Math.max(...second.submissions.map((row) => row.id))).toBeLessThan(Math.min(...first.submissions.map((row) => row.id)));
    const failed = await teamSubmissionsForTask({ teamId: team.team.id }, task.slug, { status: "FAILED" });
    expect(failed.submissions.map((row) => [row.status, row.message])).toEqual([["FAILED", "wrong shape"], ["FAILED", "wrong shape"]]);
    expect(failed.pageCount).toBe(1);
    expect((await teamSubmissionsForTask({ teamId: team.team.id }, task.slug, { page: 99 })).page).toBe(2);
  });

  it("the JSON route reads ?status= and ?page=, ignoring values it does not know", async () => {
    expect(parseTeamSubmissionsQuery(new URLSearchParams("status=failed&page=2"))).toEqual({ status: "FAILED", page: 2 });
    expect(parseTeamSubmissionsQuery(new URLSearchParams("status=bogus&page=-3"))).toEqual({ status: null, page: 1 });
    const body = await (await submissionsRoute(new Request(`${BASE}/api/tasks/${task.slug}/submissions?status=queued`, { headers: bearer(alpha) }), ctx({ task: task.slug }))).json();
    expect(body.status).toBe("QUEUED");
    expect(body.submissions.length).toBeGreaterThan(0);
    expect(body.submissions.every((row: { status: string }) => row.status === "QUEUED")).toBe(true);
  });
});

describe("invite links", () => {
  it("the link's page names the team; joining is a POST that puts the user in the team and goes to /team", async () => {
    const newcomer = await createUser({ email: `${uniqueName("new")}@test.local`, name: "Newcomer", password: "newcomer-pass" });
    // A team that has not submitted yet: one that has is closed to joins past the merge deadline (tests/integration/team-rules.test.ts).
    const host = await participantWithTeam();
    const code = (await db.team.findUniqueOrThrow({ where: { id: host.team.id }, select: { inviteCode: true } })).inviteCode;
    expect(await teamForInviteCode(code)).toEqual({ id: host.team.id, name: host.team.name, memberCount: 1, maxTeamSize: null, full: false });
    expect(await teamForInviteCode("not-a-code")).toBeNull();

    session.user = { ...newcomer, role: "PARTICIPANT", team: null };
    const form = new FormData();
    form.set("inviteCode", "wrong-code");
    expect(await joinTeamByLinkAction({}, form)).toEqual({ message: "No team has this invite code. Check it with your team-mate." });
    form.set("inviteCode", code);
    await expect(joinTeamByLinkAction({}, form)).rejects.toMatchObject({ digest: expect.stringContaining("/team") });
    expect(await db.teamMember.findUnique({ where: { userId: newcomer.id }, select: { teamId: true } })).toEqual({ teamId: host.team.id });
  });
});

describe("announcements", () => {
  it("only organisers post; a participant gets 403 and nothing is stored", async () => {
    await expect(announcements.postAnnouncement(asSessionUser(alpha), { body: "hello", task: task.slug })).rejects.toMatchObject({ status: 403 });
    await expect(announcements.postAnnouncement(null, { body: "hello" })).rejects.toMatchObject({ status: 401 });
    expect(await db.announcement.count({ where: { taskId: task.id } })).toBe(0);
  });

  it("a task's page gets its own and the event-wide announcements, newest first, live over server-sent events", async () => {
    const controller = new AbortController();
    const stream = await announcementEventsRoute(new Request(`${BASE}/api/tasks/${task.slug}/announcements/events`, { signal: controller.signal }), ctx({ task: task.slug }));
    expect(stream.headers.get("content-type")).toContain("text/event-stream");
    const events = readEvents(stream, 2, 10_000);

    session.user = admin;
    const taskForm = new FormData();
    taskForm.set("task", task.slug);
    taskForm.set("body", "  The private board is revealed at 18:00.  ");
    expect(await postAnnouncementAction(null, taskForm)).toEqual({ ok: true, message: `Posted on ${task.slug}'s pages.` });
    await announcements.postAnnouncement(admin, { body: "Only for the other task", task: otherTask.slug });
    const eventForm = new FormData();
    eventForm.set("task", "");
    eventForm.set("body", "Pizza in room 2");
    expect(await postAnnouncementAction(null, eventForm)).toMatchObject({ ok: true, message: "Posted on every task's pages." });

    const received = await events;
    controller.abort();
    expect(received.map((event) => [event.event, event.data.change])).toEqual([
      ["announcement", "posted"],
      ["announcement", "posted"],
    ]); // the other task's announcement was not forwarded

    const list = await (await announcementsRoute(new Request(`${BASE}/api/tasks/${task.slug}/announcements`), ctx({ task: task.slug }))).json();
    expect(list.announcements.map((a: { body: string; task: string | null }) => [a.body, a.task])).toEqual([
      ["Pizza in room 2", null],
      ["The private board is revealed at 18:00.", task.slug],
    ]);
    const audit = await db.auditLogEntry.findFirst({ where: { action: "announcement.post", actorId: admin.id }, orderBy: { id: "desc" } });
    expect(audit?.target).toBe("event");
  });

  it("an empty or over-long announcement is refused with a message by the field; withdrawing removes it from the task pages", async () => {
    session.user = admin;
    const form = new FormData();
    form.set("task", task.slug);
    form.set("body", "   ");
    expect(await postAnnouncementAction(null, form)).toMatchObject({ ok: false, fieldErrors: { body: ["Write the announcement."] } });
    form.set("body", "x".repeat(501));
    expect(await postAnnouncementAction(null, form)).toMatchObject({ ok: false, fieldErrors: { body: ["An announcement may be at most 500 characters."] } });

    const [latest] = await announcements.announcementsForTask(task.slug);
    const withdraw = new FormData();
    withdraw.set("announcementId", String(latest.id));
    expect(await withdrawAnnouncementAction(null, withdraw)).toEqual({ ok: true, message: "Withdrawn." });
    expect((await announcements.announcementsForTask(task.slug)).map((a) => a.id)).not.toContain(latest.id);
    expect(await withdrawAnnouncementAction(null, withdraw)).toEqual({ ok: false, message: `There is no announcement ${latest.id}.` });
  });
});
