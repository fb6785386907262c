import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser } from "@/lib/accounts/users";
import { exportRows } from "@/lib/admin/export";
import { db } from "@/lib/db";
import { leaderboardForTask } from "@/lib/leaderboard/board";
import { scoreKey } from "@/lib/leaderboard/ranking";
import { GET as finalsGet, POST as finalsPost } from "@/app/api/tasks/[task]/finals/route";
import { participantWithTeam, rankingTask, scoredSubmission } from "./support/fixtures";
import { sessionCookie } from "./support/session-cookie";

// Final submissions and ties (docs/ranking.md), against real Postgres: the private board as the
// triggers keep it for each rule, table-driven; the finals route as the CLI and the page call it;
// Postgres's tie key against the browser's.

const MINUTE = 60_000;
const START = Date.UTC(2026, 10, 20, 12, 0);
const at = (minute: number) => new Date(START + minute * MINUTE);

type Sub = { name: string; public: number; private: number; minute: number };

interface FinalsCase {
  name: string;
  direction?: "MAXIMIZE" | "MINIMIZE";
  limit?: number;
  submissions: Sub[];
  /** names of the submissions the team selects (none: the default finals) */
  selected?: string[];
  /** names of submissions cancelled after the selection */
  cancelled?: string[];
  expected: { counted: string; score: number; final: "selected" | "default"; finals: string[] };
}

const CASES: FinalsCase[] = [
  {
    name: "no selection: the best private score among the K=2 best public submissions",
    submissions: [
      { name: "A", public: 0.9, private: 0.7, minute: 1 },
      { name: "B", public: 0.8, private: 0.95, minute: 2 },
      { name: "C", public: 0.7, private: 0.99, minute: 3 },
    ],
    expected: { counted: "B", score: 0.95, final: "default", finals: ["A", "B"] },
  },
  {
    name: "no selection and K=1: the best public submission alone",
    limit: 1,
    submissions: [
      { name: "A", public: 0.9, private: 0.7, minute: 1 },
      { name: "B", public: 0.8, private: 0.95, minute: 2 },
    ],
    expected: { counted: "A", score: 0.7, final: "default", finals: ["A"] },
  },
  {
    name: "a selection counts even where a better private score sits outside it (selection made on the public board)",
    submissions: [
      { name: "A", public: 0.9, private: 0.7, minute: 1 },
      { name: "B", public: 0.8, private: 0.95, minute: 2 },
      { name: "C", public: 0.7, private: 0.6, minute: 3 },
    ],
    selected: ["A", "C"],
    expected: { counted: "A", score: 0.7, final: "selected", finals: ["A", "C"] },
  },
  {
    name: "one selected submission: the private board counts it alone",
    submissions: [
      { name: "A", public: 0.9, private: 0.7, minute: 1 },
      { name: "B", public: 0.5, private: 0.99, minute: 2 },
    ],
    selected: ["B"],
    expected: { counted: "B", score: 0.99, final: "selected", finals: ["B"] },
  },
  {
    name: "default finals with a public tie: the earlier of the tied submissions is the one taken",
    limit: 1,
    submissions: [
      { name: "A", public: 0.8, private: 0.1, minute: 5 },
      { name: "B", public: 0.8, private: 0.9, minute: 2 },
    ],
    expected: { counted: "B", score: 0.9, final: "default", finals: ["B"] },
  },
  {
    name: "MINIMIZE: the K lowest public errors are the default finals, the lowest private error among them counts",
    direction: "MINIMIZE",
    submissions: [
      { name: "A", public: 0.3, private: 0.05, minute: 1 },
      { name: "B", public: 0.1, private: 0.5, minute: 2 },
      { name: "C", public: 0.2, private: 0.4, minute: 3 },
    ],
    expected: { counted: "C", score: 0.4, final: "default", finals: ["B", "C"] },
  },
  {
    name: "every selected submission cancelled later: the default finals stand in again",
    submissions: [
      { name: "A", public: 0.9, private: 0.7, minute: 1 },
      { name: "B", public: 0.8, private: 0.95, minute: 2 },
      { name: "C", public: 0.7, private: 0.99, minute: 3 },
    ],
    selected: ["C"],
    cancelled: ["C"],
    expected: { counted: "B", score: 0.95, final: "default", finals: ["A", "B"] },
  },
  {
    name: "a team's own tie: the earliest submission counts",
    submissions: [
      { name: "A", public: 0.6, private: 0.5, minute: 5 },
      { name: "B", public: 0.6, private: 0.5, minute: 3 },
    ],
    selected: ["A", "B"],
    expected: { counted: "B", score: 0.5, final: "selected", finals: ["A", "B"] },
  },
  {
    name: "a team's own near-equal floats tie (0.3 then 0.1 + 0.2): the earliest counts, not the bigger float",
    submissions: [
      { name: "A", public: 0.5, private: 0.3, minute: 1 },
      { name: "B", public: 0.5, private: 0.1 + 0.2, minute: 2 },
    ],
    selected: ["A", "B"],
    expected: { counted: "A", score: 0.3, final: "selected", finals: ["A", "B"] },
  },
  {
    name: "MINIMIZE: near-equal floats tie (0.1 + 0.2 then 0.3): the earliest counts, not the smaller float",
    direction: "MINIMIZE",
    submissions: [
      { name: "A", public: 0.5, private: 0.1 + 0.2, minute: 1 },
      { name: "B", public: 0.5, private: 0.3, minute: 2 },
    ],
    selected: ["A", "B"],
    expected: { counted: "A", score: 0.1 + 0.2, final: "selected", finals: ["A", "B"] },
  },
];

describe("the private board counts each team's final submissions", () => {
  it.each(CASES)("$name", async (testCase) => {
    // The direction is what ranks; the metric's name does not matter to the board.
    const task = await rankingTask({ direction: testCase.direction, finalSubmissionLimit: testCase.limit ?? 2 });
    const member = await participantWithTeam();
    const ids = new Map<string, number>();
    for (const sub of testCase.submissions) {
      ids.set(sub.name, await scoredSubmission({ taskId: task.id, teamId: member.team.id, userId: member.user.id, publicScore: sub.public, privateScore: sub.private, createdAt: at(sub.minute) }));
    }
    if (testCase.selected) {
      await db.finalSelection.createMany({ data: testCase.selected.map((name) => ({ submissionId: ids.get(name)!, taskId: task.id, teamId: member.team.id, selectedById: member.user.id })) });
    }
    for (const name of testCase.cancelled ?? []) await db.submission.update({ where: { id: ids.get(name)! }, data: { status: "CANCELLED" } });
    await db.task.update({ where: { id: task.id }, data: { privateRevealedAt: new Date() } });

    const board = await leaderboardForTask(task.slug, "private");
    expect(board.board).toBe("private");
    expect(board.entries).toHaveLength(1);
    expect(board.entries[0]).toMatchObject({
      submissionId: ids.get(testCase.expected.counted),
      score: testCase.expected.score,
      final: testCase.expected.final,
      submissionCount: testCase.expected.finals.length,
      rank: 1,
    });
    const row = await db.leaderboardEntry.findUniqueOrThrow({ where: { taskId_board_teamId: { taskId: task.id, board: "PRIVATE", teamId: member.team.id } } });
    expect(row.finalSubmissionIds).toEqual(testCase.expected.finals.map((name) => ids.get(name)!).sort((a, b) => a - b));
  });

  it("ranks teams 1, 1, 3 on both boards when two share a score (to 9 decimal places), the earlier listed first", async () => {
    const task = await rankingTask();
    const [early, late, lower] = [await participantWithTeam(), await participantWithTeam(), await participantWithTeam()];
    await scoredSubmission({ taskId: task.id, teamId: late.team.id, userId: late.user.id, publicScore: 0.1 + 0.2, privateScore: 0.8, createdAt: at(9) });
    await scoredSubmission({ taskId: task.id, teamId: early.team.id, userId: early.user.id, publicScore: 0.3, privateScore: 0.8 + 1e-12, createdAt: at(4) });
    await scoredSubmission({ taskId: task.id, teamId: lower.team.id, userId: lower.user.id, publicScore: 0.29, privateScore: 0.7, createdAt: at(1) });
    await db.task.update({ where: { id: task.id }, data: { privateRevealedAt: new Date() } });
    for (const board of ["public", "private"] as const) {
      const ranked = (await leaderboardForTask(task.slug, board)).entries.map((entry) => [entry.teamId, entry.rank]);
      expect(ranked, board).toEqual([
        [early.team.id, 1],
        [late.team.id, 1],
        [lower.team.id, 3],
      ]);
    }
  });

  it("ranks MINIMIZE ties 1, 1, 3 with the lowest error first", async () => {
    const task = await rankingTask({ direction: "MINIMIZE" });
    const teams = [await participantWithTeam(), await participantWithTeam(), await participantWithTeam()];
    const scores = [0.25, 0.1, 0.1 + 1e-11];
    for (const [i, member] of teams.entries()) {
      await scoredSubmission({ taskId: task.id, teamId: member.team.id, userId: member.user.id, publicScore: scores[i], privateScore: scores[i], createdAt: at(10 - i) });
    }
    const ranked = (await leaderboardForTask(task.slug, "public")).entries.map((entry) => [entry.teamId, entry.rank]);
    expect(ranked).toEqual([
      [teams[2].team.id, 1],
      [teams[1].team.id, 1],
      [teams[0].team.id, 3],
    ]);
  });

  it("computes the tie key in Postgres exactly as the browser does", async () => {
    let state = 7;
    const next = () => {
      state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
      return state / 2 ** 32;
    };
    const values = [0.1 + 0.2, 0.3, 1 / 3, 2 / 3, 0.5, 0.4999999995, 0.0000000005, -0.3, 12345.6789012345, 1e6 / 7, 0, 1];
    for (let i = 0; i < 2000; i++) values.push(i % 2 ? next() : (next() - 0.5) * 10 ** Math.floor(next() * 8));
    // As text, so that Postgres gets the exact doubles (Prisma rounds a number parameter to 15 digits).
    const rows = await db.$queryRaw<{ key: number }[]>`SELECT leaderboard_score_key(v::float8) AS key FROM unnest(${values.map(String)}::text[]) WITH ORDINALITY AS t(v, i) ORDER BY i`;
    expect(rows.map((row) => row.key)).toEqual(values.map(scoreKey));
  });
});

// --- the route -----------------------------------------------------------------------------------

const SITE = "http://localhost:8000";
const ctx = (task: string) => ({ params: Promise.resolve({ task }) });

describe("GET and POST /api/tasks/{task}/finals", () => {
  let slug: string;
  let taskId: number;
  let member: Awaited<ReturnType<typeof participantWithTeam>>;
  let other: Awaited<ReturnType<typeof participantWithTeam>>;
  let ids: number[];
  let otherTeams: number;
  let failed: number;

  const post = (body: unknown, headers: Record<string, string> = { authorization: `Bearer ${member.token}` }) =>
    finalsPost(new Request(`${SITE}/api/tasks/${slug}/finals`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) }), ctx(slug));
  const get = () => finalsGet(new Request(`${SITE}/api/tasks/${slug}/finals`, { headers: { authorization: `Bearer ${member.token}` } }), ctx(slug));

  beforeAll(async () => {
    const task = await rankingTask({ closesAt: new Date(Date.now() + 3_600_000) });
    slug = task.slug;
    taskId = task.id;
    member = await participantWithTeam();
    other = await participantWithTeam();
    ids = [];
    for (const [i, scores] of [[0.9, 0.7], [0.8, 0.95], [0.7, 0.99]].entries()) {
      ids.push(await scoredSubmission({ taskId, teamId: member.team.id, userId: member.user.id, publicScore: scores[0], privateScore: scores[1], createdAt: at(i) }));
    }
    otherTeams = await scoredSubmission({ taskId, teamId: other.team.id, userId: other.user.id, publicScore: 0.5, privateScore: 0.5 });
    failed = (await db.submission.create({ data: { taskId, teamId: member.team.id, userId: member.user.id, fileName: "f.onnx", sha256: "cd".repeat(32), sizeBytes: 1, storageKey: "k-failed", paramCount: 1, status: "FAILED", failureKind: "PARTICIPANT" } })).id;
  });

  afterAll(async () => {
    await db.task.delete({ where: { id: taskId } });
  });

  it("answers the default finals (the K best public) before any selection", async () => {
    const response = await get();
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ task: slug, limit: 2, open: true, default: true, finals: [ids[0], ids[1]], selected: [] });
  });

  it("replaces the selection with what the CLI sends ({ submissionIds }) and answers { finals } with who selected", async () => {
    const response = await post({ submissionIds: [ids[2]] });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ default: false, finals: [ids[2]], selected: [{ submissionId: ids[2], selectedBy: member.user.name }] });
    const stored = await db.finalSelection.findMany({ where: { taskId, teamId: member.team.id } });
    expect(stored.map((row) => [row.submissionId, row.selectedById])).toEqual([[ids[2], member.user.id]]);
    const row = await db.leaderboardEntry.findUniqueOrThrow({ where: { taskId_board_teamId: { taskId, board: "PRIVATE", teamId: member.team.id } } });
    expect(row).toMatchObject({ submissionId: ids[2], finalKind: "SELECTED", finalSubmissionIds: [ids[2]] });
  });

  it("keeps who chose a submission and when, for one kept from the previous selection", async () => {
    const before = await db.finalSelection.findUniqueOrThrow({ where: { submissionId: ids[2] } });
    expect((await post({ submissionIds: [ids[2], ids[0]] })).status).toBe(200);
    const after = await db.finalSelection.findUniqueOrThrow({ where: { submissionId: ids[2] } });
    expect(after.selectedAt).toEqual(before.selectedAt);
  });

  // Built when run: the ids exist only after beforeAll.
  const refusals: { name: string; body: () => unknown; status: number; code: string; message: () => RegExp }[] = [
    { name: "more than K", body: () => ({ submissionIds: ids }), status: 422, code: "VALIDATION_FAILED", message: () => /at most 2 final submissions/ },
    { name: "another team's submission", body: () => ({ submissionIds: [otherTeams] }), status: 422, code: "VALIDATION_FAILED", message: () => new RegExp(`not: ${otherTeams}\\.`) },
    { name: "a failed submission", body: () => ({ submissionIds: [failed] }), status: 422, code: "VALIDATION_FAILED", message: () => new RegExp(`not: ${failed}\\.`) },
    { name: "a submission that does not exist", body: () => ({ submissionIds: [999_999_999] }), status: 422, code: "VALIDATION_FAILED", message: () => /not: 999999999\./ },
    { name: "a body without submissionIds", body: () => ({ ids: [1] }), status: 422, code: "VALIDATION_FAILED", message: () => /submissionIds/ },
    { name: "a body that is not JSON", body: () => "select 1", status: 400, code: "BAD_REQUEST", message: () => /Send JSON/ },
  ];
  it.each(refusals)("refuses $name and leaves the selection as it was", async ({ body, status, code, message }) => {
    const response = await post(body());
    expect(response.status).toBe(status);
    const answer = await response.json();
    expect(answer.error.code).toBe(code);
    expect(answer.error.message).toMatch(message());
    expect((await db.finalSelection.findMany({ where: { taskId, teamId: member.team.id }, orderBy: { submissionId: "asc" } })).map((row) => row.submissionId)).toEqual([ids[0], ids[2]]);
  });

  it("takes the session cookie from our own pages only (same origin)", async () => {
    const cookie = await sessionCookie({ id: member.user.id, role: "PARTICIPANT" });
    expect((await post({ submissionIds: [ids[0], ids[2]] }, { cookie })).status).toBe(403);
    expect((await post({ submissionIds: [ids[0], ids[2]] }, { cookie, origin: SITE, host: "localhost:8000" })).status).toBe(200);
  });

  it("goes back to the default finals with an empty list", async () => {
    const body = await (await post({ submissionIds: [] })).json();
    expect(body).toMatchObject({ default: true, finals: [ids[0], ids[1]], selected: [] });
  });

  it("closes with the task: 409 with a clear message, and the selection stays", async () => {
    expect((await post({ submissionIds: [ids[1]] })).status).toBe(200);
    await db.task.update({ where: { id: taskId }, data: { closesAt: new Date(Date.now() - 1000) } });
    const response = await post({ submissionIds: [ids[0]] });
    expect(response.status).toBe(409);
    const answer = await response.json();
    expect(answer.error).toMatchObject({ code: "SELECTION_CLOSED" });
    expect(answer.error.message).toMatch(/closed at .*final submissions can no longer change/);
    expect(await (await get()).json()).toMatchObject({ open: false, default: false, finals: [ids[1]] });
  });

  it("lists each team's finals, and who selected them, in the organisers' exports", async () => {
    const organiser = await createUser({ email: `organiser-${slug}@test.local`, name: "Organiser", password: "test-password-1", role: "ADMIN" });
    const admin = { id: organiser.id, email: organiser.email, name: organiser.name, role: "ADMIN" as const, team: null };
    await db.task.update({ where: { id: taskId }, data: { privateRevealedAt: new Date() } });
    const board = await exportRows(admin, slug, "private-leaderboard");
    expect(board.map((row) => [row.team, row.submission_id, row.final, row.finals])).toEqual([
      [member.team.name, ids[1], "selected", String(ids[1])],
      [other.team.name, otherTeams, "default", String(otherTeams)],
    ]);
    const submissions = await exportRows(admin, slug, "submissions");
    const byId = new Map(submissions.map((row) => [row.id, row]));
    expect(byId.get(ids[1])).toMatchObject({ final: "selected", final_selected_by: member.user.email });
    expect(byId.get(ids[0])).toMatchObject({ final: null, final_selected_by: null, final_selected_at: null });
    expect(byId.get(otherTeams)).toMatchObject({ final: "default", final_selected_by: null });
  });
});
