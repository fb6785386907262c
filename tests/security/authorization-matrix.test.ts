import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

// Every route handler (app/**/route.ts) and every server action (any app/ module with "use server") against every
// kind of caller: anonymous, a participant of team A, of team B, a user in no team, a disabled
// user, a revoked token (for a session: one that was signed out), an organiser; each with a session
// cookie and with a Bearer token. The list of routes and actions is read from the files, so a new
// one without an entry below fails this test. Routes get real Requests; pages and actions read the
// session cookie through next/headers, which is given the caller's cookie here.
const jar = vi.hoisted(() => ({ cookie: "" }));
vi.mock("next/headers", () => ({
  cookies: async () => ({
    getAll: () => (jar.cookie ? [{ name: jar.cookie.split("=")[0], value: jar.cookie.split(/=(.*)/s)[1] }] : []),
  }),
  headers: async () => new Headers({ host: "localhost:8000" }),
}));
vi.mock("next/cache", () => ({ revalidatePath: () => {} }));

// The matrix sends hundreds of requests from one address of its own (so its counts never reach
// other files' callers): its rate limits are not under test here.
const MATRIX_ADDRESS = "192.0.2.200";
const generous = { RATE_LIMIT_BAD_TOKENS_PER_IP: "100000", RATE_LIMIT_POLLS_PER_IP: "100000", RATE_LIMIT_SIGNUPS_PER_IP: "100000", METRICS_TOKEN: "matrix-metrics-token-0123456789abcdef" };
Object.assign(process.env, generous);
const { resetEnvForTests } = await import("@/lib/env");
resetEnvForTests();

const { db } = await import("@/lib/db");
const { createUser, addTeamMember, createTeam } = await import("@/lib/accounts/users");
const { createApiToken, revokeApiToken } = await import("@/lib/auth/api-token");
const { evaluationQueue } = await import("@/lib/queue/evaluation-queue");
const { modelStorage } = await import("@/lib/storage");
const { int64Labels, randomRows, taskWithDataset, uniqueName } = await import("../integration/support/fixtures");
const { sessionCookie } = await import("../integration/support/session-cookie");

const APP = path.resolve("app");
const SITE = "http://localhost:8000";

type CallerName = "anonymous" | "team A" | "team B" | "no team" | "disabled" | "revoked" | "organiser";
const CALLERS: CallerName[] = ["anonymous", "team A", "team B", "no team", "disabled", "revoked", "organiser"];
type Via = "session" | "token";
/** What a caller gets: "ok" is past authorization (2xx, or a domain answer such as 422 for a junk file). */
type Outcome = "ok" | 401 | 403 | 404;

interface Caller {
  userId: number | null;
  cookie: string | null;
  token: string | null;
}

interface World {
  slug: string;
  /** a submission of team A */
  submissionId: number;
  teamA: number;
  victimUserId: number;
  callers: Record<CallerName, Caller>;
}

async function member(teamId: number | null, role: "PARTICIPANT" | "ADMIN" = "PARTICIPANT") {
  const user = await createUser({ email: `${uniqueName("matrix")}@test.local`, name: "Matrix", password: "matrix-password-1", role });
  if (teamId !== null) await addTeamMember(teamId, user.id);
  const token = await createApiToken(user.id, "matrix");
  return { userId: user.id, role, token: token.token, tokenId: token.id };
}

async function buildWorld(): Promise<World> {
  const task = await taskWithDataset({ inputs: randomRows(6, 4, 31), labels: int64Labels([0, 1, 2, 0, 1, 2]) });
  await fs.promises.writeFile(path.join(process.env.DATA_DIR!, task.slug, "train.npz"), "PK-matrix");
  await db.task.update({ where: { id: task.id }, data: { trainingDataFile: "train.npz" } });
  const teamA = await createTeam(uniqueName("Team A"));
  const teamB = await createTeam(uniqueName("Team B"));
  const a = await member(teamA.id);
  const b = await member(teamB.id);
  const lone = await member(null);
  const disabled = await member(teamA.id);
  const revoked = await member(teamA.id);
  const admin = await member(null, "ADMIN");
  const victim = await member(teamB.id);
  const cookieOf = (m: { userId: number; role: "PARTICIPANT" | "ADMIN" }) => sessionCookie({ id: m.userId, role: m.role });
  const callers: Record<CallerName, Caller> = {
    anonymous: { userId: null, cookie: null, token: null },
    "team A": { userId: a.userId, cookie: await cookieOf(a), token: a.token },
    "team B": { userId: b.userId, cookie: await cookieOf(b), token: b.token },
    "no team": { userId: lone.userId, cookie: await cookieOf(lone), token: lone.token },
    disabled: { userId: disabled.userId, cookie: await cookieOf(disabled), token: disabled.token },
    revoked: { userId: revoked.userId, cookie: await cookieOf(revoked), token: revoked.token },
    organiser: { userId: admin.userId, cookie: await cookieOf(admin), token: admin.token },
  };
  await db.user.update({ where: { id: disabled.userId }, data: { disabledAt: new Date() } });
  // Revoked: the token is revoked and the session was signed out (its version is no longer current).
  await revokeApiToken(revoked.userId, revoked.tokenId);
  await db.user.update({ where: { id: revoked.userId }, data: { sessionVersion: { increment: 1 } } });
  // Team A's stored model (a few bytes: the download route streams whatever was stored).
  const storageKey = `models/${task.slug}/${"ef".repeat(32)}.onnx`;
  const staged = path.join(process.env.GOAT_TEST_ROOT!, `matrix-${uniqueName("model")}.onnx`);
  await fs.promises.writeFile(staged, "matrix-model");
  await modelStorage().putFile(storageKey, staged);
  const submission = await db.submission.create({
    data: { taskId: task.id, teamId: teamA.id, userId: a.userId, fileName: "m.onnx", sha256: "ef".repeat(32), sizeBytes: 12, storageKey, paramCount: 1, status: "FAILED", failureKind: "PARTICIPANT" },
  });
  return { slug: task.slug, submissionId: submission.id, teamA: teamA.id, victimUserId: victim.userId, callers };
}

// --- expectations ------------------------------------------------------------------------------

type Expectation = Record<Via, Record<CallerName, Outcome>>;
const same = (outcomes: Record<CallerName, Outcome>): Expectation => ({ session: outcomes, token: outcomes });
const all = (outcome: Outcome): Record<CallerName, Outcome> => Object.fromEntries(CALLERS.map((name) => [name, outcome])) as Record<CallerName, Outcome>;
const PUBLIC = same(all("ok"));
/** Organisers' routes take the session cookie only: a token (anyone's) is no organiser. */
const ORGANISERS_ONLY: Expectation = {
  session: { anonymous: 401, "team A": 403, "team B": 403, "no team": 403, disabled: 401, revoked: 401, organiser: "ok" },
  token: all(401),
};
/** Participants' API: any signed-in caller or valid token; a disabled account's token is 403. */
const SIGNED_IN: Expectation = {
  session: { anonymous: 401, "team A": "ok", "team B": "ok", "no team": "ok", disabled: 401, revoked: 401, organiser: "ok" },
  token: { anonymous: 401, "team A": "ok", "team B": "ok", "no team": "ok", disabled: 403, revoked: 401, organiser: "ok" },
};
const withOverrides = (base: Expectation, overrides: Partial<Record<CallerName, Outcome>>): Expectation => ({
  session: { ...base.session, ...overrides },
  token: { ...base.token, ...overrides },
});

type RouteModule = Record<string, (request: Request, context: { params: Promise<Record<string, string | string[]>> }) => Promise<Response>>;

interface RouteEntry {
  expect: Expectation;
  /** the request for this world (path parameters and body); headers are added per caller */
  request?: (world: World) => { url: string; params: Record<string, string | string[]>; init?: RequestInit };
  /** not called here, and why (with where it is tested instead) */
  skip?: string;
}

const junkUpload = (field: string) => {
  const form = new FormData();
  form.append(field, new Blob(["not a model"]), "junk.onnx");
  return { method: "POST", body: form };
};

const routes: Record<string, RouteEntry> = {
  "GET /api/admin/dashboard": { expect: ORGANISERS_ONLY, request: () => ({ url: "/api/admin/dashboard", params: {} }) },
  // An empty change: past authorization it answers 200 and changes nothing.
  "PATCH /api/admin/tasks/[task]": { expect: ORGANISERS_ONLY, request: (w) => ({ url: `/api/admin/tasks/${w.slug}`, params: { task: w.slug }, init: { method: "PATCH", body: JSON.stringify({}) } }) },
  "POST /api/admin/tasks/[task]/dataset": { expect: ORGANISERS_ONLY, request: (w) => ({ url: `/api/admin/tasks/${w.slug}/dataset`, params: { task: w.slug }, init: junkUpload("inputs") }) },
  "GET /api/admin/tasks/[task]/export": { expect: ORGANISERS_ONLY, request: (w) => ({ url: `/api/admin/tasks/${w.slug}/export?kind=submissions&format=json`, params: { task: w.slug } }) },
  "POST /api/admin/tasks/[task]/reference": { expect: ORGANISERS_ONLY, request: (w) => ({ url: `/api/admin/tasks/${w.slug}/reference`, params: { task: w.slug }, init: junkUpload("file") }) },
  "PATCH /api/admin/tasks/[task]/board-settings": {
    expect: ORGANISERS_ONLY,
    request: (w) => ({ url: `/api/admin/tasks/${w.slug}/board-settings`, params: { task: w.slug }, init: { method: "PATCH", body: JSON.stringify({ showReferenceOnBoards: false }) } }),
  },
  "GET /api/admin/tasks/[task]/validation": { expect: ORGANISERS_ONLY, request: (w) => ({ url: `/api/admin/tasks/${w.slug}/validation`, params: { task: w.slug } }) },
  "GET /api/auth/[...nextauth]": { expect: PUBLIC, skip: "next-auth's own handler (needs Next's request scope); sign-in and sign-out: tests/security/session-revocation.test.ts, rate-limits.test.ts" },
  "POST /api/auth/[...nextauth]": { expect: PUBLIC, skip: "next-auth's own handler (CSRF token required); its 429 gate: tests/security/rate-limits.test.ts" },
  "GET /api/docs": { expect: PUBLIC, request: () => ({ url: "/api/docs", params: {} }) },
  "GET /api/docs/[asset]": { expect: PUBLIC, request: () => ({ url: "/api/docs/init.js", params: { asset: "init.js" } }) },
  "GET /api/health": { expect: PUBLIC, request: () => ({ url: "/api/health", params: {} }) },
  "GET /api/openapi.json": { expect: PUBLIC, request: () => ({ url: "/api/openapi.json", params: {} }) },
  // The same rule as the status route: another team, or no team, is told it does not exist.
  "GET /api/submissions/[id]": { expect: withOverrides(SIGNED_IN, { "team B": 404, "no team": 404 }), request: (w) => ({ url: `/api/submissions/${w.submissionId}`, params: { id: String(w.submissionId) } }) },
  "GET /api/tasks": { expect: PUBLIC, request: () => ({ url: "/api/tasks", params: {} }) },
  // A team's finals: a user in no team (an organiser included) has none to read or choose.
  "GET /api/tasks/[task]/finals": { expect: withOverrides(SIGNED_IN, { "no team": 403, organiser: 403 }), request: (w) => ({ url: `/api/tasks/${w.slug}/finals`, params: { task: w.slug } }) },
  "POST /api/tasks/[task]/finals": {
    expect: withOverrides(SIGNED_IN, { "no team": 403, organiser: 403 }),
    request: (w) => ({ url: `/api/tasks/${w.slug}/finals`, params: { task: w.slug }, init: { method: "POST", body: JSON.stringify({ submissionIds: [] }) } }),
  },
  "GET /api/tasks/[task]/leaderboard": { expect: PUBLIC, request: (w) => ({ url: `/api/tasks/${w.slug}/leaderboard`, params: { task: w.slug } }) },
  "GET /api/tasks/[task]/leaderboard/events": { expect: PUBLIC, request: (w) => ({ url: `/api/tasks/${w.slug}/leaderboard/events`, params: { task: w.slug } }) },
  // Anyone is answered; only a valid session cookie gets its own team's part (tests/integration/leaderboard-api.test.ts, "the leaderboard viewer").
  "GET /api/tasks/[task]/leaderboard/viewer": { expect: PUBLIC, request: (w) => ({ url: `/api/tasks/${w.slug}/leaderboard/viewer`, params: { task: w.slug } }) },
  // A user in no team (an organiser included) has no submissions to list.
  "GET /api/tasks/[task]/submissions": { expect: withOverrides(SIGNED_IN, { "no team": 403, organiser: 403 }), request: (w) => ({ url: `/api/tasks/${w.slug}/submissions`, params: { task: w.slug } }) },
  // Team A's submission: another team, or no team, is told it does not exist; organisers may download any.
  "GET /api/tasks/[task]/submissions/[id]/model": { expect: withOverrides(SIGNED_IN, { "team B": 404, "no team": 404 }), request: (w) => ({ url: `/api/tasks/${w.slug}/submissions/${w.submissionId}/model`, params: { task: w.slug, id: String(w.submissionId) } }) },
  "PATCH /api/tasks/[task]/submissions/[id]": {
    expect: withOverrides(SIGNED_IN, { "team B": 404, "no team": 404, organiser: 404 }),
    request: (w) => ({ url: `/api/tasks/${w.slug}/submissions/${w.submissionId}`, params: { task: w.slug, id: String(w.submissionId) }, init: { method: "PATCH", body: JSON.stringify({ name: "matrix" }) } }),
  },
  "GET /api/tasks/[task]/announcements": { expect: PUBLIC, request: (w) => ({ url: `/api/tasks/${w.slug}/announcements`, params: { task: w.slug } }) },
  "GET /api/tasks/[task]/announcements/events": { expect: PUBLIC, request: (w) => ({ url: `/api/tasks/${w.slug}/announcements/events`, params: { task: w.slug } }) },
  "GET /api/tasks/[task]/submissions/events": { expect: SIGNED_IN, request: (w) => ({ url: `/api/tasks/${w.slug}/submissions/events`, params: { task: w.slug } }) },
  "GET /api/tasks/[task]/training-data": { expect: PUBLIC, request: (w) => ({ url: `/api/tasks/${w.slug}/training-data`, params: { task: w.slug } }) },
  // Behind METRICS_TOKEN only: no session or API token opens it.
  "GET /metrics": { expect: same(all(401)), request: () => ({ url: "/metrics", params: {} }) },
  // Uploading needs a team: a user in no team (an organiser included) is refused.
  "POST /submit/[task]": { expect: withOverrides(SIGNED_IN, { "no team": 403, organiser: 403 }), request: (w) => ({ url: `/submit/${w.slug}`, params: { task: w.slug }, init: junkUpload("file") }) },
  // Team A's submission: another team, or no team, is told it does not exist; organisers see all.
  "GET /submit/[task]/status/[id]": { expect: withOverrides(SIGNED_IN, { "team B": 404, "no team": 404 }), request: (w) => ({ url: `/submit/${w.slug}/status/${w.submissionId}`, params: { task: w.slug, id: String(w.submissionId) } }) },
  "GET /submit/queue/status": { expect: SIGNED_IN, request: () => ({ url: "/submit/queue/status", params: {} }) },
};

type ActionState = { ok?: boolean; message?: string; fieldErrors?: Record<string, string[]>; created?: unknown };
type ActionModule = Record<string, (state: unknown, form: FormData) => Promise<ActionState>>;
type ActionOutcome = "ok" | "refused";
const ADMIN_ACTION: Record<CallerName, ActionOutcome> = { anonymous: "refused", "team A": "refused", "team B": "refused", "no team": "refused", disabled: "refused", revoked: "refused", organiser: "ok" };
const SIGNED_IN_ACTION: Record<CallerName, ActionOutcome> = { anonymous: "refused", "team A": "ok", "team B": "ok", "no team": "ok", disabled: "refused", revoked: "refused", organiser: "ok" };
const PUBLIC_ACTION: Record<CallerName, ActionOutcome> = Object.fromEntries(CALLERS.map((name) => [name, "ok"])) as Record<CallerName, ActionOutcome>;
/** The refusals actions answer (as form state) to a caller without the right session. */
const REFUSAL = /Sign in as an organiser|Only organisers|session ended|sign in/i;

interface ActionEntry {
  expect: Record<CallerName, ActionOutcome>;
  form: (world: World) => Record<string, string>;
}

const actions: Record<string, ActionEntry> = {
  "admin/actions.ts#retrySubmissionAction": { expect: ADMIN_ACTION, form: (w) => ({ submissionId: String(w.submissionId) }) },
  "admin/actions.ts#cancelSubmissionAction": { expect: ADMIN_ACTION, form: (w) => ({ submissionId: String(w.submissionId) }) },
  "admin/actions.ts#rescoreTaskAction": { expect: ADMIN_ACTION, form: (w) => ({ slug: w.slug }) },
  "admin/actions.ts#setQueuePausedAction": { expect: ADMIN_ACTION, form: () => ({ value: "off" }) },
  "admin/actions.ts#drainWorkerAction": { expect: ADMIN_ACTION, form: () => ({ workerId: "no-such-worker" }) },
  "admin/actions.ts#setPrivateRevealedAction": { expect: ADMIN_ACTION, form: (w) => ({ slug: w.slug, value: "off" }) },
  "admin/actions.ts#setUserRoleAction": { expect: ADMIN_ACTION, form: (w) => ({ userId: String(w.victimUserId), role: "PARTICIPANT" }) },
  "admin/actions.ts#setUserDisabledAction": { expect: ADMIN_ACTION, form: (w) => ({ userId: String(w.victimUserId), value: "off" }) },
  "admin/actions.ts#moveUserToTeamAction": { expect: ADMIN_ACTION, form: (w) => ({ userId: String(w.victimUserId), teamId: String(w.teamA) }) },
  "admin/actions.ts#resetTeamQuotaAction": { expect: ADMIN_ACTION, form: (w) => ({ teamId: String(w.teamA) }) },
  // Empty: no limit, the setting every other test expects.
  "admin/actions.ts#setMaxTeamSizeAction": { expect: ADMIN_ACTION, form: () => ({ maxTeamSize: "" }) },
  "admin/actions.ts#saveTaskAction": {
    expect: ADMIN_ACTION,
    form: () => ({ slug: uniqueName("matrix").toLowerCase(), title: "Matrix", kind: "CLASSIFICATION", inputSpec: '[{"name":"input","dtype":"float32","shape":[-1,4]}]', outputSpec: '[{"name":"output","dtype":"float32","shape":[-1,3]}]', rankMetric: "accuracy" }),
  },
  "admin/actions.ts#previewScoreFormulaAction": { expect: ADMIN_ACTION, form: (w) => ({ slug: w.slug, formula: "accuracy - 0.02 * log10(params)" }) },
  "admin/announcements/actions.ts#postAnnouncementAction": { expect: ADMIN_ACTION, form: () => ({ body: "Matrix announcement", task: "" }) },
  "admin/announcements/actions.ts#withdrawAnnouncementAction": { expect: ADMIN_ACTION, form: () => ({ announcementId: "999999999" }) },
  // Renaming team A's submission: past authorization for everyone signed in (another team is told it does not exist).
  "tasks/[task]/submissions/actions.ts#updateSubmissionLabelsAction": { expect: SIGNED_IN_ACTION, form: (w) => ({ task: w.slug, submissionId: String(w.submissionId), name: "matrix" }) },
  "team/actions.ts#joinTeamByLinkAction": { expect: SIGNED_IN_ACTION, form: () => ({ inviteCode: "no-such-invite-code" }) },
  "signup/actions.ts#signUpAction": { expect: PUBLIC_ACTION, form: () => ({ name: "New", email: `${uniqueName("new")}@test.local`, password: "new-password-1", confirmPassword: "new-password-1" }) },
  "team/actions.ts#createTeamAction": { expect: SIGNED_IN_ACTION, form: () => ({ name: uniqueName("Team") }) },
  "team/actions.ts#joinTeamAction": { expect: SIGNED_IN_ACTION, form: () => ({ inviteCode: "no-such-invite-code" }) },
  "team/actions.ts#leaveTeamAction": { expect: SIGNED_IN_ACTION, form: () => ({}) },
  "tokens/actions.ts#createTokenAction": { expect: SIGNED_IN_ACTION, form: () => ({ name: "matrix" }) },
  "tokens/actions.ts#revokeTokenAction": { expect: SIGNED_IN_ACTION, form: () => ({ tokenId: "999999999" }) },
  // Webhook URLs on a loopback address are refused by the SSRF guard: past authorization, that is an "ok" here.
  "webhook-actions.ts#saveTeamWebhookAction": { expect: SIGNED_IN_ACTION, form: () => ({ url: "http://127.0.0.1:9/hook", kind: "GENERIC" }) },
  "webhook-actions.ts#removeTeamWebhookAction": { expect: SIGNED_IN_ACTION, form: () => ({}) },
  "webhook-actions.ts#addOrganiserWebhookAction": { expect: ADMIN_ACTION, form: () => ({ url: "http://127.0.0.1:9/hook", kind: "GENERIC", events: "worker.lost" }) },
  "webhook-actions.ts#changeWebhookAction": { expect: ADMIN_ACTION, form: () => ({ webhookId: "999999999", change: "disable" }) },
};

// --- discovery from the files ------------------------------------------------------------------

const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
const appFiles = (name: string) =>
  (fs.readdirSync(APP, { recursive: true }) as string[]).filter((file) => path.basename(file) === name).map((file) => file.split(path.sep).join("/"));

async function discoveredRoutes(): Promise<Map<string, RouteModule[string]>> {
  const found = new Map<string, RouteModule[string]>();
  for (const file of appFiles("route.ts")) {
    const loaded = (await import(/* @vite-ignore */ path.join(APP, file))) as RouteModule;
    const routePath = `/${path.posix.dirname(file)}`.replace(/\/\.$/, "");
    for (const method of HTTP_METHODS) if (typeof loaded[method] === "function") found.set(`${method} ${routePath}`, loaded[method]);
  }
  return found;
}

/** Every module under app/ that starts with the "use server" directive, whatever its file name. */
const serverActionFiles = () =>
  (fs.readdirSync(APP, { recursive: true }) as string[])
    .filter((file) => /\.tsx?$/.test(file) && /^\s*["']use server["']/.test(fs.readFileSync(path.join(APP, file), "utf8")))
    .map((file) => file.split(path.sep).join("/"));

async function discoveredActions(): Promise<Map<string, ActionModule[string]>> {
  const found = new Map<string, ActionModule[string]>();
  for (const file of serverActionFiles()) {
    const loaded = (await import(/* @vite-ignore */ path.join(APP, file))) as ActionModule;
    for (const [name, value] of Object.entries(loaded)) if (typeof value === "function") found.set(`${file}#${name}`, value);
  }
  return found;
}

let routeHandlers: Map<string, RouteModule[string]>;
let actionHandlers: Map<string, ActionModule[string]>;
let world: World;

beforeAll(async () => {
  routeHandlers = await discoveredRoutes();
  actionHandlers = await discoveredActions();
  world = await buildWorld();
});

afterAll(async () => {
  for (const key of Object.keys(generous)) delete process.env[key];
  resetEnvForTests();
  await evaluationQueue().resume().catch(() => undefined);
  await evaluationQueue().close();
});

describe("the matrix covers every route handler and server action", () => {
  it("every exported route method in app/**/route.ts has an entry, and every entry a route", () => {
    expect([...routeHandlers.keys()].sort()).toEqual(Object.keys(routes).sort());
  });

  it("every exported server action (any app/ module that starts with \"use server\") has an entry, and every entry an action", () => {
    expect([...actionHandlers.keys()].sort()).toEqual(Object.keys(actions).sort());
  });
});

async function outcomeOf(response: Response): Promise<Outcome | number> {
  const status = response.status;
  await response.body?.cancel().catch(() => undefined);
  if (status === 401 || status === 403 || status === 404) return status;
  if (status < 400 || status === 400 || status === 413 || status === 422) return "ok";
  return status;
}

describe.each(Object.entries(routes).filter(([, entry]) => !entry.skip))("%s", (key, entry) => {
  it.each(["session", "token"] as Via[])("via %s: each caller gets what the matrix says", async (via) => {
    const got: Partial<Record<CallerName, Outcome | number>> = {};
    for (const name of CALLERS) {
      const caller = world.callers[name];
      const { url, params, init } = entry.request!(world);
      const headers = new Headers({ host: "localhost:8000", origin: SITE, "x-forwarded-for": MATRIX_ADDRESS });
      if (via === "session" && caller.cookie) headers.set("cookie", caller.cookie);
      if (via === "token" && caller.token) headers.set("authorization", `Bearer ${caller.token}`);
      jar.cookie = via === "session" && caller.cookie ? caller.cookie : "";
      const abort = new AbortController();
      const response = await routeHandlers.get(key)!(new Request(`${SITE}${url}`, { ...init, headers, signal: abort.signal }), { params: Promise.resolve(params) });
      got[name] = await outcomeOf(response);
      abort.abort();
    }
    expect(got).toEqual(entry.expect[via]);
  });
});

describe.each(Object.entries(actions))("%s", (key, entry) => {
  it("each caller (by session cookie) gets what the matrix says", async () => {
    // Actions change things (leave a team, create one): each gets a world of its own.
    const own = await buildWorld();
    const got: Partial<Record<CallerName, ActionOutcome>> = {};
    for (const name of CALLERS) {
      jar.cookie = own.callers[name].cookie ?? "";
      const form = new FormData();
      for (const [field, value] of Object.entries(entry.form(own))) form.set(field, value);
      // An action that succeeds may navigate: Next's redirect() throws, which is an "ok" here.
      const state = await actionHandlers.get(key)!(null, form).catch((error: { digest?: string }) => {
        if (error.digest?.startsWith("NEXT_REDIRECT;")) return { ok: true } as ActionState;
        throw error;
      });
      got[name] = REFUSAL.test(state.message ?? "") ? "refused" : "ok";
    }
    jar.cookie = "";
    expect(got).toEqual(entry.expect);
  });
});
