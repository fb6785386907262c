import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { SessionUser } from "@/lib/auth/session";

// Every admin data function, action, route and page refuses a signed-out caller and a participant,
// and serves an organiser. next-auth reads its session cookie through Next's request scope, which
// a test cannot enter, so currentUser() is the one seam replaced here; everything behind it is real.
const session = vi.hoisted(() => ({ user: null as SessionUser | null }));
vi.mock("@/lib/auth/session", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@/lib/auth/session")>()),
  currentUser: async () => session.user,
}));
vi.mock("next/cache", () => ({ revalidatePath: () => {} }));

const actions = await import("@/app/admin/actions");
const controls = await import("@/lib/admin/controls");
const people = await import("@/lib/admin/people");
const editor = await import("@/lib/tasks/editor");
const referenceModel = await import("@/lib/tasks/reference-model");
const { dashboardSnapshot } = await import("@/lib/admin/dashboard");
const { recentAuditEntries } = await import("@/lib/admin/audit");
const { exportRows } = await import("@/lib/admin/export");
const { GET: dashboardRoute } = await import("@/app/api/admin/dashboard/route");
const { GET: exportRoute } = await import("@/app/api/admin/tasks/[task]/export/route");
const { GET: validationRoute } = await import("@/app/api/admin/tasks/[task]/validation/route");
const { POST: datasetRoute } = await import("@/app/api/admin/tasks/[task]/dataset/route");
const { POST: referenceRoute } = await import("@/app/api/admin/tasks/[task]/reference/route");
const { GET: metricsRoute } = await import("@/app/metrics/route");
const AdminLayout = (await import("@/app/admin/layout")).default;
const pages = {
  dashboard: (await import("@/app/admin/page")).default,
  tasks: (await import("@/app/admin/tasks/page")).default,
  users: (await import("@/app/admin/users/page")).default,
};
const { createUser } = await import("@/lib/accounts/users");
const { db } = await import("@/lib/db");
const { evaluationQueue } = await import("@/lib/queue/evaluation-queue");
const { int64Labels, participantWithTeam, randomRows, taskWithDataset, uniqueName } = await import("./support/fixtures");
const { textOf } = await import("./support/element-text");

let admin: SessionUser;
let participant: SessionUser;
let slug: string;
let submissionId: number;

beforeAll(async () => {
  const user = await createUser({ email: `${uniqueName("admin")}@test.local`, name: "Organiser", password: "admin-password-1", role: "ADMIN" });
  admin = { id: user.id, email: user.email, name: user.name, role: "ADMIN", team: null };
  const p = await participantWithTeam();
  participant = { id: p.user.id, email: p.user.email, name: p.user.name, role: "PARTICIPANT", team: { id: p.team.id, name: p.team.name } };
  const task = await taskWithDataset({ inputs: randomRows(30, 4, 1), labels: int64Labels(Array.from({ length: 30 }, (_, i) => i % 3)) });
  slug = task.slug;
  const submission = await db.submission.create({
    data: { taskId: task.id, teamId: p.team.id, userId: p.user.id, fileName: "m.onnx", sha256: "x", sizeBytes: 1, storageKey: "none", paramCount: 0n, status: "FAILED", failureKind: "PARTICIPANT" },
  });
  submissionId = submission.id;
});

afterAll(async () => {
  await evaluationQueue().resume().catch(() => {});
  await evaluationQueue().close();
});

const callers = () => [
  { name: "signed out", user: null, status: 401 },
  { name: "a participant", user: participant, status: 403 },
];

function form(fields: Record<string, string>): FormData {
  const data = new FormData();
  for (const [key, value] of Object.entries(fields)) data.append(key, value);
  return data;
}

describe.each([0, 1])("a caller who is not an organiser (%#)", (index) => {
  const who = () => callers()[index];

  it("is refused by every data function and control, and nothing changes", async () => {
    const { user, status } = who();
    const refused = { status };
    const auditBefore = await db.auditLogEntry.count();
    await expect(dashboardSnapshot(user)).rejects.toMatchObject(refused);
    await expect(recentAuditEntries(user)).rejects.toMatchObject(refused);
    await expect(exportRows(user, slug, "submissions")).rejects.toMatchObject(refused);
    await expect(controls.retrySubmission(user, submissionId)).rejects.toMatchObject(refused);
    await expect(controls.cancelSubmission(user, submissionId)).rejects.toMatchObject(refused);
    await expect(controls.rescoreTask(user, slug)).rejects.toMatchObject(refused);
    await expect(controls.setQueuePaused(user, true)).rejects.toMatchObject(refused);
    await expect(controls.drainWorker(user, "any")).rejects.toMatchObject(refused);
    await expect(controls.setPrivateRevealed(user, slug, true)).rejects.toMatchObject(refused);
    await expect(people.listUsers(user)).rejects.toMatchObject(refused);
    await expect(people.listTeams(user)).rejects.toMatchObject(refused);
    await expect(people.setUserRole(user, participant.id, "ADMIN")).rejects.toMatchObject(refused);
    await expect(people.setUserDisabled(user, participant.id, true)).rejects.toMatchObject(refused);
    await expect(people.moveUserToTeam(user, participant.id, null)).rejects.toMatchObject(refused);
    await expect(people.resetTeamQuota(user, participant.team!.id)).rejects.toMatchObject(refused);
    await expect(editor.saveTask(user, { slug: "sneaky" })).rejects.toMatchObject(refused);
    await expect(editor.listTasksForAdmin(user)).rejects.toMatchObject(refused);
    await expect(editor.taskFormValues(user, slug)).rejects.toMatchObject(refused);
    await expect(referenceModel.taskValidation(user, slug)).rejects.toMatchObject(refused);
    expect(await db.auditLogEntry.count()).toBe(auditBefore);
    expect(await evaluationQueue().isPaused()).toBe(false);
    expect((await db.user.findUniqueOrThrow({ where: { id: participant.id } })).role).toBe("PARTICIPANT");
    expect((await db.submission.findUniqueOrThrow({ where: { id: submissionId } })).status).toBe("FAILED");
  });

  it("gets a refusal from every server action", async () => {
    session.user = who().user;
    const calls: [string, Promise<{ ok: boolean; message: string }>][] = [
      ["retry", actions.retrySubmissionAction(null, form({ submissionId: String(submissionId) }))],
      ["cancel", actions.cancelSubmissionAction(null, form({ submissionId: String(submissionId) }))],
      ["rescore", actions.rescoreTaskAction(null, form({ slug }))],
      ["pause", actions.setQueuePausedAction(null, form({ value: "on" }))],
      ["drain", actions.drainWorkerAction(null, form({ workerId: "any" }))],
      ["reveal", actions.setPrivateRevealedAction(null, form({ slug, value: "on" }))],
      ["role", actions.setUserRoleAction(null, form({ userId: String(participant.id), role: "ADMIN" }))],
      ["disable", actions.setUserDisabledAction(null, form({ userId: String(participant.id), value: "on" }))],
      ["move", actions.moveUserToTeamAction(null, form({ userId: String(participant.id), teamId: "none" }))],
      ["quota", actions.resetTeamQuotaAction(null, form({ teamId: String(participant.team!.id) }))],
      ["team size", actions.setMaxTeamSizeAction(null, form({ maxTeamSize: "2" }))],
      ["task", actions.saveTaskAction(null, form({ slug: "sneaky", title: "x", kind: "CLASSIFICATION", inputSpec: "[]", outputSpec: "[]", rankMetric: "accuracy" }))],
    ];
    for (const [name, call] of calls) expect(await call, name).toMatchObject({ ok: false, message: expect.stringMatching(/Sign in as an organiser|Only organisers/) });
    expect(await db.task.findUnique({ where: { slug: "sneaky" } })).toBeNull();
    expect(await evaluationQueue().isPaused()).toBe(false);
  });

  it("gets 401/403 JSON from every admin route and export", async () => {
    session.user = who().user;
    const params = { params: Promise.resolve({ task: slug }) };
    const base = "http://localhost:8000/api/admin";
    const responses = [
      await dashboardRoute(),
      await exportRoute(new Request(`${base}/tasks/${slug}/export?kind=leaderboard&format=csv`), params),
      await exportRoute(new Request(`${base}/tasks/${slug}/export?kind=submissions&format=json`), params),
      await validationRoute(new Request(`${base}/tasks/${slug}/validation`), params),
      await datasetRoute(new Request(`${base}/tasks/${slug}/dataset`, { method: "POST", body: form({ x: "y" }) }), params),
      await referenceRoute(new Request(`${base}/tasks/${slug}/reference`, { method: "POST", body: form({ x: "y" }) }), params),
    ];
    for (const response of responses) {
      expect(response.status).toBe(who().status);
      expect((await response.json()).error.code).toBe(who().status === 401 ? "UNAUTHORIZED" : "FORBIDDEN");
    }
  });

  it("is refused every admin page", async () => {
    session.user = who().user;
    for (const page of Object.values(pages)) await expect(page()).rejects.toMatchObject({ status: who().status });
    if (who().user === null) {
      await expect(AdminLayout({ children: null })).rejects.toThrow(/NEXT_REDIRECT/);
    } else {
      expect(JSON.stringify(await AdminLayout({ children: "secret" }))).toContain("Organisers only");
      expect(JSON.stringify(await AdminLayout({ children: "secret" }))).not.toContain("secret");
    }
  });
});

describe("an organiser", () => {
  it("is served by the routes, pages and actions", async () => {
    session.user = admin;
    const params = { params: Promise.resolve({ task: slug }) };
    const dashboard = await dashboardRoute();
    expect(dashboard.status).toBe(200);
    expect(await dashboard.json()).toMatchObject({ queue: { paused: false } });
    const csv = await exportRoute(new Request(`http://x/api/admin/tasks/${slug}/export?kind=submissions&format=csv`), params);
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    expect(await csv.text()).toContain(`${submissionId},`);
    const json = await exportRoute(new Request(`http://x/api/admin/tasks/${slug}/export?kind=leaderboard&format=json`), params);
    expect(await json.json()).toEqual([]);
    expect((await validationRoute(new Request("http://x"), params)).status).toBe(200);
    const headings = { dashboard: "Dashboard", tasks: "Tasks", users: "Users" };
    for (const [name, page] of Object.entries(pages)) expect(textOf(await page()), name).toContain(headings[name as keyof typeof pages]);
    expect(await actions.setQueuePausedAction(null, form({ value: "on" }))).toMatchObject({ ok: true });
    expect(await actions.setQueuePausedAction(null, form({ value: "off" }))).toMatchObject({ ok: true });
    expect(await actions.retrySubmissionAction(null, form({ submissionId: "abc" }))).toMatchObject({ ok: false, fieldErrors: { submissionId: expect.any(Array) } });
  });

  it("gets field errors for an invalid task, and creates a valid one", async () => {
    session.user = admin;
    const bad = await editor.saveTask(admin, { slug: "Bad Slug", title: "", kind: "CLASSIFICATION", inputSpec: "not json", outputSpec: "[]", rankMetric: "accuracy" });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(Object.keys(bad.fieldErrors)).toContain("inputSpec");
    const newSlug = uniqueName("t").toLowerCase();
    const good = await editor.saveTask(admin, {
      slug: newSlug, title: "Digits", kind: "CLASSIFICATION", inputSpec: '[{"name":"input","dtype":"float32","shape":[-1,4]}]',
      outputSpec: '[{"name":"output","dtype":"float32","shape":[-1,3]}]', rankMetric: "accuracy", maxModelMb: "5", evalTimeoutS: "30", publicFreezeMinutes: "15", topK: "", batchSize: "", opensAt: "", direction: "", metrics: "",
    });
    expect(good).toEqual({ ok: true, slug: newSlug, rescoring: 0 });
    expect(await db.task.findUniqueOrThrow({ where: { slug: newSlug } })).toMatchObject({ maxModelBytes: 5 * 1024 * 1024, evalTimeoutMs: 30_000, publicFreezeMinutes: 15 });
    expect(await db.auditLogEntry.findFirst({ where: { action: "task.create", target: `task:${newSlug}` } })).not.toBeNull();
  });
});

describe("/metrics", () => {
  it("answers Prometheus text with the right Bearer token only", async () => {
    process.env.METRICS_TOKEN = "metrics-token-for-tests-0123";
    expect((await metricsRoute(new Request("http://x/metrics"))).status).toBe(401);
    expect((await metricsRoute(new Request("http://x/metrics", { headers: { authorization: "Bearer wrong-token-for-tests-01234" } }))).status).toBe(401);
    const ok = await metricsRoute(new Request("http://x/metrics", { headers: { authorization: "Bearer metrics-token-for-tests-0123" } }));
    expect(ok.status).toBe(200);
    const text = await ok.text();
    expect(text).toContain("# TYPE goat_queue_jobs gauge");
    expect(text).toMatch(/goat_submissions\{status="FAILED",failure_kind="PARTICIPANT"\} \d+/);
    // prom-client's registry: default process metrics and counters kept as things happen.
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toContain("# TYPE goat_jobs_added_total counter");
    expect(text).toContain("# TYPE goat_worker_gpu_memory_used_bytes gauge");
    delete process.env.METRICS_TOKEN;
    expect((await metricsRoute(new Request("http://x/metrics"))).status).toBe(404);
  });
});
