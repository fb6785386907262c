import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { SessionUser } from "@/lib/auth/session";
import { createUser } from "@/lib/accounts/users";
import { moveUserToTeam, resetTeamQuota } from "@/lib/admin/people";
import { saveTask, taskFormValues } from "@/lib/tasks/editor";
import { db } from "@/lib/db";
import { eventSettings, setMaxTeamSize } from "@/lib/teams/event-settings";
import { evaluationQueue } from "@/lib/queue/evaluation-queue";
import { quotaState } from "@/lib/quota/daily-quota";
import { taskDetail } from "@/lib/tasks/catalog";
import { createTeamForUser, joinTeamWithInviteCode, leaveTeam, teamChangeRules, teamForInviteCode } from "@/lib/teams/membership";
import { buildMlp } from "@/tools/onnx/build-model";
import { int64Labels, randomRows, taskWithDataset, uniqueName } from "./support/fixtures";
import { createApiToken } from "@/lib/auth/api-token";
import { upload } from "./support/upload";
import { waitFor } from "./support/wait";

// The team rules (docs/ranking.md, "Teams and daily quota"; lib/quota/daily-quota.ts, lib/teams/rules.ts), on
// the real database: the quota follows people across teams, team changes close at each task's
// merge deadline, and joins stop at the event's maximum team size.

const HOUR = 3600 * 1000;
const dataset = { inputs: randomRows(6, 4, 11), labels: int64Labels([0, 1, 2, 0, 1, 2]) };
let admin: SessionUser;

async function person(label: string): Promise<SessionUser> {
  const user = await createUser({ email: `${uniqueName(label)}@test.local`, name: label, password: "team-rules-pass" });
  return { ...user, role: "PARTICIPANT", team: null };
}

type Task = { id: number; slug: string; dailySubmissionLimit: number };

/** A submission row as the intake writes it (the quota and the rules read rows, not files). */
async function submitted(task: Task, user: SessionUser, teamId: number, opts: { count?: number; status?: "QUEUED" | "FAILED" | "CANCELLED"; failureKind?: "PLATFORM" | "PARTICIPANT"; createdAt?: Date; isReference?: boolean } = {}) {
  for (let i = 0; i < (opts.count ?? 1); i++) {
    await db.submission.create({
      data: {
        taskId: task.id,
        teamId,
        userId: user.id,
        fileName: "model.onnx",
        sha256: "ab".repeat(32),
        sizeBytes: 10,
        storageKey: uniqueName("models/none"),
        paramCount: 1,
        status: opts.status ?? "QUEUED",
        failureKind: opts.failureKind ?? null,
        isReference: opts.isReference ?? false,
        quotaExempt: opts.isReference ?? false,
        ...(opts.createdAt ? { createdAt: opts.createdAt } : {}),
      },
    });
  }
}

async function inviteCodeOf(teamId: number): Promise<string> {
  return (await db.team.findUniqueOrThrow({ where: { id: teamId }, select: { inviteCode: true } })).inviteCode;
}

beforeAll(async () => {
  const organiser = await createUser({ email: `${uniqueName("org")}@test.local`, name: "Olga", password: "organiser-pass", role: "ADMIN" });
  admin = { ...organiser, role: "ADMIN", team: null };
});

afterEach(async () => {
  // The size limit is event-wide: never leave it set for the next test or file.
  await setMaxTeamSize(admin, null);
});

afterAll(async () => {
  await evaluationQueue().close();
});

describe("the daily quota follows people across teams", () => {
  // Steps in a small language: each scenario starts with ada in team Red and bob in team Green;
  // the task allows 3 a day and its team merge deadline is still to come, so people may move.
  type Step =
    | { submit: "ada" | "bob"; count?: number; to?: "other task"; status?: "CANCELLED" | "FAILED"; failureKind?: "PLATFORM"; yesterday?: boolean }
    | { leave: "ada" | "bob" }
    | { create: "ada" | "bob"; team: string }
    | { join: "ada" | "bob"; team: string }
    | { reset: string };
  const cases: { name: string; steps: Step[]; expected: Record<string, { used: number; usedInOtherTeams: number }> }[] = [
    {
      name: "leave and create a new team: the day's submissions come along",
      steps: [{ submit: "ada", count: 3 }, { leave: "ada" }, { create: "ada", team: "Blue" }],
      expected: { Red: { used: 3, usedInOtherTeams: 0 }, Blue: { used: 3, usedInOtherTeams: 3 } },
    },
    {
      name: "hop into an existing team: it counts its own and the newcomer's",
      steps: [{ submit: "ada", count: 2 }, { submit: "bob" }, { leave: "ada" }, { join: "ada", team: "Green" }],
      expected: { Red: { used: 2, usedInOtherTeams: 0 }, Green: { used: 3, usedInOtherTeams: 2 } },
    },
    {
      name: "two hops: every team the person made submissions in today adds up, each submission once",
      steps: [{ submit: "ada" }, { leave: "ada" }, { join: "ada", team: "Green" }, { submit: "ada" }, { leave: "ada" }, { create: "ada", team: "Blue" }],
      expected: { Red: { used: 1, usedInOtherTeams: 0 }, Green: { used: 1, usedInOtherTeams: 0 }, Blue: { used: 2, usedInOtherTeams: 2 } },
    },
    {
      name: "yesterday's submissions do not count today",
      steps: [{ submit: "ada", count: 3, yesterday: true }, { leave: "ada" }, { create: "ada", team: "Blue" }],
      expected: { Red: { used: 0, usedInOtherTeams: 0 }, Blue: { used: 0, usedInOtherTeams: 0 } },
    },
    {
      name: "platform faults and cancelled submissions cost nothing, in the old team or the new",
      steps: [{ submit: "ada" }, { submit: "ada", status: "FAILED", failureKind: "PLATFORM" }, { submit: "ada", status: "CANCELLED" }, { leave: "ada" }, { create: "ada", team: "Blue" }],
      expected: { Red: { used: 1, usedInOtherTeams: 0 }, Blue: { used: 1, usedInOtherTeams: 1 } },
    },
    {
      name: "another task's submissions do not count for this one",
      steps: [{ submit: "ada", count: 3, to: "other task" }, { leave: "ada" }, { create: "ada", team: "Blue" }],
      expected: { Red: { used: 0, usedInOtherTeams: 0 }, Blue: { used: 0, usedInOtherTeams: 0 } },
    },
    {
      name: "an organiser's reset of the new team restarts its count, its members' submissions elsewhere included",
      steps: [{ submit: "ada", count: 3 }, { leave: "ada" }, { create: "ada", team: "Blue" }, { reset: "Blue" }, { submit: "ada" }],
      expected: { Red: { used: 3, usedInOtherTeams: 0 }, Blue: { used: 1, usedInOtherTeams: 0 } },
    },
    {
      name: "a member who leaves takes nothing away: the team keeps counting what was made in it",
      steps: [{ submit: "bob", count: 2 }, { leave: "bob" }, { create: "bob", team: "Blue" }],
      expected: { Green: { used: 2, usedInOtherTeams: 0 }, Blue: { used: 2, usedInOtherTeams: 2 } },
    },
  ];

  it.each(cases)("$name", async ({ steps, expected }) => {
    const open = { opensAt: new Date(Date.now() - HOUR), teamMergeDeadline: new Date(Date.now() + HOUR), dailySubmissionLimit: 3 };
    const task = await taskWithDataset({ ...dataset, ...open });
    const otherTask = await taskWithDataset({ ...dataset, ...open });
    const people = { ada: await person("ada"), bob: await person("bob") };
    const teams: Record<string, number> = {};
    teams.Red = (await createTeamForUser(people.ada, uniqueName("Red"))).id;
    teams.Green = (await createTeamForUser(people.bob, uniqueName("Green"))).id;
    const teamOf = async (who: SessionUser) => (await db.teamMember.findUniqueOrThrow({ where: { userId: who.id }, select: { teamId: true } })).teamId;

    for (const step of steps) {
      if ("submit" in step) {
        const who = people[step.submit];
        await submitted(step.to ? otherTask : task, who, await teamOf(who), {
          count: step.count,
          status: step.status,
          failureKind: step.failureKind,
          createdAt: step.yesterday ? new Date(Date.now() - 24 * HOUR - 60_000) : undefined,
        });
      } else if ("leave" in step) {
        await leaveTeam(people[step.leave]);
      } else if ("create" in step) {
        teams[step.team] = (await createTeamForUser(people[step.create], uniqueName(step.team))).id;
      } else if ("join" in step) {
        await joinTeamWithInviteCode(people[step.join], await inviteCodeOf(teams[step.team]));
      } else {
        // A reset is a moment: the submissions after it are strictly later.
        await resetTeamQuota(admin, teams[step.reset], task.id);
        const { at } = await db.quotaReset.findFirstOrThrow({ where: { teamId: teams[step.reset] }, orderBy: { id: "desc" } });
        await waitFor("the clock past the reset", async () => Date.now() > at.getTime());
      }
    }
    for (const [team, want] of Object.entries(expected)) {
      const quota = await quotaState(db, teams[team], task);
      expect({ team, used: quota.used, usedInOtherTeams: quota.usedInOtherTeams, remaining: quota.remaining }).toEqual({
        team,
        ...want,
        remaining: Math.max(0, 3 - want.used),
      });
    }
  });

  it("the upload route refuses a hopper whose submissions of the day used the quota, and says why", async () => {
    const task = await taskWithDataset({ ...dataset, dailySubmissionLimit: 2, teamMergeDeadline: new Date(Date.now() + HOUR) });
    const ada = await person("ada");
    await createTeamForUser(ada, uniqueName("Red"));
    const token = (await createApiToken(ada.id, "test")).token;
    const model = buildMlp({ sizes: [4, 8, 3], seed: 5 });
    expect((await upload(task.slug, token, model)).status).toBe(202);
    expect((await upload(task.slug, token, model)).status).toBe(202);
    expect((await upload(task.slug, token, model)).status).toBe(429);

    await leaveTeam(ada);
    const blue = await createTeamForUser(ada, uniqueName("Blue"));
    const refused = await upload(task.slug, token, model);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe("QUOTA_EXCEEDED");
    expect(refused.body.error.message).toMatch(/used all 2 submissions .* today \(2 of them made by your team's members while in another team: they count here too\)/);
    expect(refused.body.error.quota).toMatchObject({ limit: 2, used: 2, usedInOtherTeams: 2, remaining: 0 });
    expect(await db.submission.count({ where: { teamId: blue.id } })).toBe(0);
  });
});

describe("team changes close at the task's team merge deadline", () => {
  // `submitted`: who has submitted to the task before the change. For a join or a create, "you"
  // submitted in an old team an organiser then took them out of; "target team" is the team joined.
  type Submitted = "you" | "team-mate" | "target team" | "nobody" | "reference only" | "you, to a task whose deadline is to come";
  const cases: {
    name: string;
    task: { opensAt?: number | null; teamMergeDeadline?: number | null; closesAt?: number | null };
    submitted: Submitted;
    change: "leave" | "join" | "create";
    refused: RegExp | null;
  }[] = [
    { name: "default deadline (the opening): you submitted, you cannot leave", task: { opensAt: -1 }, submitted: "you", change: "leave", refused: /^You cannot leave "Red-\w+" now: team changes for the task "Test task [^"]+" closed on \d+ \w+ \d{4}, \d\d:\d\d UTC, and you have submitted to it\. They stay closed until the task ends; ask the organisers if you must change teams\.$/ },
    { name: "default deadline: your team-mate submitted, you cannot leave", task: { opensAt: -1 }, submitted: "team-mate", change: "leave", refused: /cannot leave .* and your team has submitted to it/ },
    { name: "default deadline: the team you would join submitted, you cannot join", task: { opensAt: -1 }, submitted: "target team", change: "join", refused: /cannot join "Target-\w+" now: .* and that team has submitted to it/ },
    { name: "default deadline: you submitted (in a team you were moved out of), you cannot join another", task: { opensAt: -1 }, submitted: "you", change: "join", refused: /cannot join .* and you have submitted to it/ },
    { name: "default deadline: you submitted, you cannot create a team", task: { opensAt: -1 }, submitted: "you", change: "create", refused: /^You cannot create a team now: .* and you have submitted to it/ },
    { name: "a task with no opening time is open from its creation: you submitted, you cannot leave", task: { opensAt: null }, submitted: "you", change: "leave", refused: /cannot leave/ },
    { name: "nobody submitted: leaving is free", task: { opensAt: -1 }, submitted: "nobody", change: "leave", refused: null },
    { name: "nobody submitted: joining is free", task: { opensAt: -1 }, submitted: "nobody", change: "join", refused: null },
    { name: "nobody submitted: creating is free", task: { opensAt: -1 }, submitted: "nobody", change: "create", refused: null },
    { name: "a deadline still to come: you submitted, you may leave (the quota follows you)", task: { opensAt: -1, teamMergeDeadline: 2 }, submitted: "you", change: "leave", refused: null },
    { name: "a deadline still to come: the target team submitted, you may join", task: { opensAt: -3, teamMergeDeadline: 2 }, submitted: "target team", change: "join", refused: null },
    { name: "an explicit deadline that passed: the target team submitted, you cannot join", task: { opensAt: -3, teamMergeDeadline: -1 }, submitted: "target team", change: "join", refused: /cannot join .* that team has submitted/ },
    { name: "the task has closed: it holds no one any more", task: { opensAt: -3, closesAt: -1 }, submitted: "you", change: "leave", refused: null },
    { name: "an organisers' reference model is no submission of the team", task: { opensAt: -1 }, submitted: "reference only", change: "join", refused: null },
    { name: "your submissions to another task whose deadline is to come do not close this one's", task: { opensAt: -1 }, submitted: "you, to a task whose deadline is to come", change: "leave", refused: null },
  ];

  it.each(cases)("$name", async ({ task: dates, submitted: who, change, refused }) => {
    const at = (hours: number | null | undefined) => (hours === undefined || hours === null ? null : new Date(Date.now() + hours * HOUR));
    const task = await taskWithDataset({ ...dataset, opensAt: at(dates.opensAt), teamMergeDeadline: at(dates.teamMergeDeadline), closesAt: at(dates.closesAt) });
    const laterTask = await taskWithDataset({ ...dataset, opensAt: at(-1), teamMergeDeadline: at(5) });
    const you = await person("you");
    const mate = await person("mate");
    const host = await person("host");
    const red = await createTeamForUser(you, uniqueName("Red"));
    await joinTeamWithInviteCode(mate, await inviteCodeOf(red.id));
    const target = await createTeamForUser(host, uniqueName("Target"));

    if (who === "you") await submitted(task, you, red.id);
    if (who === "team-mate") await submitted(task, mate, red.id);
    if (who === "target team") await submitted(task, host, target.id);
    if (who === "reference only") await submitted(task, host, target.id, { isReference: true });
    if (who === "you, to a task whose deadline is to come") await submitted(laterTask, you, red.id);
    // A join or a create needs you out of your team: organisers can move anyone at any time.
    if (change !== "leave") await moveUserToTeam(admin, you.id, null);

    const attempt =
      change === "leave" ? leaveTeam(you) : change === "join" ? joinTeamWithInviteCode(you, await inviteCodeOf(target.id)) : createTeamForUser(you, uniqueName("New"));
    const membershipBefore = change === "leave" ? red.id : null;
    if (refused) {
      await expect(attempt).rejects.toMatchObject({ status: 409, code: "TEAM_CHANGES_CLOSED", message: expect.stringMatching(refused) });
      const membership = await db.teamMember.findUnique({ where: { userId: you.id }, select: { teamId: true } });
      expect(membership?.teamId ?? null).toBe(membershipBefore);
      // The team page says the same, with the task (it knows the person and their own team, not a team they might join).
      if (who === "you" || change === "leave") {
        const rules = await teamChangeRules(you, membershipBefore);
        expect(rules.closure).toMatchObject({ taskSlug: task.slug, because: who === "you" ? "you" : "team" });
      }
    } else {
      await attempt;
      const membership = await db.teamMember.findUnique({ where: { userId: you.id }, select: { teamId: true } });
      expect(membership?.teamId ?? null).toEqual(change === "leave" ? null : change === "join" ? target.id : expect.any(Number));
    }
  });

  it("the team page lists each open task's deadline, its own or the opening, and the task page states it", async () => {
    const opensAt = new Date(Date.now() - HOUR);
    const own = new Date(Date.now() + 2 * HOUR);
    const byDefault = await taskWithDataset({ ...dataset, opensAt });
    const explicit = await taskWithDataset({ ...dataset, opensAt, teamMergeDeadline: own });
    const closed = await taskWithDataset({ ...dataset, opensAt: new Date(Date.now() - 3 * HOUR), closesAt: new Date(Date.now() - HOUR) });
    const rules = await teamChangeRules(await person("reader"), null);
    const listed = new Map(rules.deadlines.map((each) => [each.slug, each]));
    expect(listed.get(byDefault.slug)).toEqual({ slug: byDefault.slug, title: byDefault.title, closesTeamChangesAt: opensAt.toISOString(), explicit: false, passed: true });
    expect(listed.get(explicit.slug)).toEqual({ slug: explicit.slug, title: explicit.title, closesTeamChangesAt: own.toISOString(), explicit: true, passed: false });
    expect(listed.has(closed.slug)).toBe(false);
    expect(rules.closure).toBeNull();
    // The task page states the same deadline.
    expect((await taskDetail(byDefault.slug))?.teamMerge).toEqual({ closesAt: opensAt.toISOString(), byDefault: true });
    expect((await taskDetail(explicit.slug))?.teamMerge).toEqual({ closesAt: own.toISOString(), byDefault: false });
  });

  it("the task editor saves the deadline, shows it back, and refuses one after the close", async () => {
    const slug = uniqueName("merge").toLowerCase();
    const form = {
      slug,
      title: "Merge deadline",
      kind: "CLASSIFICATION",
      inputSpec: '[{"name":"input","dtype":"float32","shape":[-1,4]}]',
      outputSpec: '[{"name":"output","dtype":"float32","shape":[-1,3]}]',
      rankMetric: "accuracy",
      opensAt: "2026-12-01T10:00",
      closesAt: "2026-12-10T10:00",
      teamMergeDeadline: "2026-12-03T10:00",
    };
    expect(await saveTask(admin, form)).toEqual({ ok: true, slug, rescoring: 0 });
    expect((await db.task.findUniqueOrThrow({ where: { slug }, select: { teamMergeDeadline: true } })).teamMergeDeadline?.toISOString()).toBe("2026-12-03T10:00:00.000Z");
    expect((await taskFormValues(admin, slug))?.teamMergeDeadline).toBe("2026-12-03T10:00");
    const late = await saveTask(admin, { ...form, teamMergeDeadline: "2026-12-11T10:00" }, slug);
    expect(late).toMatchObject({ ok: false, fieldErrors: { teamMergeDeadline: ["Must be before the task closes."] } });
    expect(await saveTask(admin, { ...form, teamMergeDeadline: "" }, slug)).toEqual({ ok: true, slug, rescoring: 0 });
    expect((await db.task.findUniqueOrThrow({ where: { slug }, select: { teamMergeDeadline: true } })).teamMergeDeadline).toBeNull();
  });
});

describe("the maximum team size", () => {
  const cases: { name: string; limit: number | null; members: number; refused: RegExp | null }[] = [
    { name: "no limit: a team of 3 takes a fourth", limit: null, members: 3, refused: null },
    { name: "limit 2: a team of 1 takes a second", limit: 2, members: 1, refused: null },
    { name: "limit 2: a team of 2 is full", limit: 2, members: 2, refused: /^"Size-\w+" is full: it has 2 members and the organisers allow at most 2 per team\.$/ },
    { name: "a limit lowered under a team's size: it keeps its members and takes no one new", limit: 1, members: 2, refused: /is full: it has 2 members and the organisers allow at most 1 per team/ },
  ];

  it.each(cases)("$name", async ({ limit, members, refused }) => {
    const founder = await person("founder");
    const team = await createTeamForUser(founder, uniqueName("Size"));
    const code = await inviteCodeOf(team.id);
    for (let i = 1; i < members; i++) await joinTeamWithInviteCode(await person("member"), code);
    await setMaxTeamSize(admin, limit);
    const newcomer = await person("newcomer");

    expect(await teamForInviteCode(code)).toMatchObject({ memberCount: members, maxTeamSize: limit, full: refused !== null });
    if (refused) {
      await expect(joinTeamWithInviteCode(newcomer, code)).rejects.toMatchObject({ status: 409, code: "TEAM_FULL", message: expect.stringMatching(refused) });
      expect(await db.teamMember.count({ where: { teamId: team.id } })).toBe(members);
    } else {
      await joinTeamWithInviteCode(newcomer, code);
      expect(await db.teamMember.count({ where: { teamId: team.id } })).toBe(members + 1);
    }
  });

  it("two people joining at once for the last place: exactly one gets it", async () => {
    const founder = await person("founder");
    const team = await createTeamForUser(founder, uniqueName("Race"));
    await setMaxTeamSize(admin, 2);
    const code = await inviteCodeOf(team.id);
    const outcomes = await Promise.allSettled([joinTeamWithInviteCode(await person("first"), code), joinTeamWithInviteCode(await person("second"), code)]);
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect(outcomes.find((outcome) => outcome.status === "rejected")).toMatchObject({ reason: { code: "TEAM_FULL" } });
    expect(await db.teamMember.count({ where: { teamId: team.id } })).toBe(2);
  });

  it("an organiser can still move someone into a full team", async () => {
    const founder = await person("founder");
    const team = await createTeamForUser(founder, uniqueName("Full"));
    await setMaxTeamSize(admin, 1);
    const extra = await person("extra");
    await moveUserToTeam(admin, extra.id, team.id);
    expect(await db.teamMember.count({ where: { teamId: team.id } })).toBe(2);
  });

  it("only organisers set it, to a whole number from 1 or empty", async () => {
    const participant = await person("participant");
    await expect(setMaxTeamSize(participant, 3)).rejects.toMatchObject({ status: 403 });
    await expect(setMaxTeamSize(null, 3)).rejects.toMatchObject({ status: 401 });
    for (const wrong of [0, -2, 1.5, 1001]) await expect(setMaxTeamSize(admin, wrong)).rejects.toThrow(/whole number of members from 1 to 1000/);
    expect(await setMaxTeamSize(admin, 4)).toEqual({ message: "Teams may have at most 4 members now." });
    expect(await eventSettings()).toEqual({ maxTeamSize: 4 });
    expect(await db.auditLogEntry.findFirst({ where: { action: "event.max_team_size" }, orderBy: { id: "desc" }, select: { actorId: true, details: true } })).toEqual({
      actorId: admin.id,
      details: { maxTeamSize: 4 },
    });
    expect(await setMaxTeamSize(admin, null)).toEqual({ message: "Teams have no size limit now." });
    expect(await eventSettings()).toEqual({ maxTeamSize: null });
  });
});
