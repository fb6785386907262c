import "server-only";
import { z } from "zod";
import { Prisma } from "@goat/contracts/db";
import { addTeamMember, createTeam } from "../accounts/users";
import type { SessionUser } from "../auth/session";
import { db } from "../db";
import { ApiError } from "../errors";
import { teamNameSchema } from "../schemas/accounts";
import { eventSettings } from "./event-settings";
import { assertRoomInTeam, assertTeamChangeOpen, mergeDeadlinesOfOpenTasks, teamChangeClosure, type TaskMergeDeadline, type TeamChangeClosure } from "./rules";

/**
 * Teams as participants manage them on the team page: create one, join one with its invite code,
 * see its members, leave it. One team per user for the event (team_members.user_id is unique).
 * Every change obeys the team rules (lib/teams/rules.ts): the tasks' team merge deadlines and the
 * event's maximum team size. Every function takes the signed-in user, so pages and tests call the
 * same code.
 */
export interface TeamView {
  id: number;
  name: string;
  /** shown to members only: whoever has it can join */
  inviteCode: string;
  createdAt: string;
  members: { userId: number; name: string; email: string; joinedAt: string; isYou: boolean }[];
  submissionCount: number;
}

export async function teamOfUser(user: SessionUser): Promise<TeamView | null> {
  const membership = await db.teamMember.findUnique({
    where: { userId: user.id },
    select: {
      team: {
        select: {
          id: true,
          name: true,
          inviteCode: true,
          createdAt: true,
          _count: { select: { submissions: true } },
          members: { select: { joinedAt: true, user: { select: { id: true, name: true, email: true } } }, orderBy: { joinedAt: "asc" } },
        },
      },
    },
  });
  if (!membership) return null;
  const { team } = membership;
  return {
    id: team.id,
    name: team.name,
    inviteCode: team.inviteCode,
    createdAt: team.createdAt.toISOString(),
    submissionCount: team._count.submissions,
    members: team.members.map((member) => ({
      userId: member.user.id,
      name: member.user.name,
      email: member.user.email,
      joinedAt: member.joinedAt.toISOString(),
      isYou: member.user.id === user.id,
    })),
  };
}

export const inviteCodeSchema = z.string().trim().min(4, "paste the whole invite code").max(64);

/** What the team page says about the rules: the size limit, whether this person may change teams now, and each task's deadline. */
export interface TeamChangeRules {
  maxTeamSize: number | null;
  /** why this person cannot join, leave or create a team now (null: they can) */
  closure: TeamChangeClosure | null;
  deadlines: TaskMergeDeadline[];
}

export async function teamChangeRules(user: SessionUser, teamId: number | null): Promise<TeamChangeRules> {
  const [{ maxTeamSize }, closure, deadlines] = await Promise.all([eventSettings(), teamChangeClosure(db, { userId: user.id, teamId }), mergeDeadlinesOfOpenTasks()]);
  return { maxTeamSize, closure, deadlines };
}

/** What an invite link shows before joining: the team's name, size and whether it is full, or null for a wrong code. */
export async function teamForInviteCode(code: string): Promise<{ id: number; name: string; memberCount: number; maxTeamSize: number | null; full: boolean } | null> {
  const parsed = inviteCodeSchema.safeParse(code);
  if (!parsed.success) return null;
  const [team, { maxTeamSize }] = await Promise.all([
    db.team.findUnique({ where: { inviteCode: parsed.data }, select: { id: true, name: true, _count: { select: { members: true } } } }),
    eventSettings(),
  ]);
  if (!team) return null;
  const memberCount = team._count.members;
  return { id: team.id, name: team.name, memberCount, maxTeamSize, full: maxTeamSize !== null && memberCount >= maxTeamSize };
}

/** The invite link a member shares: it opens the join page, which asks to sign in first. */
export function inviteLink(baseUrl: string, inviteCode: string): string {
  return `${baseUrl}/team/join/${encodeURIComponent(inviteCode)}`;
}

async function assertNoTeam(user: SessionUser) {
  const current = await db.teamMember.findUnique({ where: { userId: user.id }, select: { team: { select: { name: true } } } });
  if (current) throw new ApiError(409, "CONFLICT", `You are already in the team "${current.team.name}". Leave it first: one team per person.`);
}

export async function createTeamForUser(user: SessionUser, name: string): Promise<{ id: number; name: string }> {
  const teamName = teamNameSchema.parse(name);
  await assertNoTeam(user);
  // Someone who submitted to a task past its merge deadline stays out of new teams until it closes.
  await assertTeamChangeOpen(db, { userId: user.id, teamId: null }, "create");
  const team = await createTeam(teamName);
  try {
    await addTeamMember(team.id, user.id);
  } catch (error) {
    // Lost a race with another tab that joined a team meanwhile: do not leave an empty team behind.
    await db.team.delete({ where: { id: team.id } }).catch(() => undefined);
    throw error;
  }
  return { id: team.id, name: team.name };
}

export async function joinTeamWithInviteCode(user: SessionUser, code: string): Promise<{ id: number; name: string }> {
  const inviteCode = inviteCodeSchema.parse(code);
  const team = await db.team.findUnique({ where: { inviteCode }, select: { id: true, name: true } });
  // The same answer for any wrong code, so codes cannot be probed for team names.
  if (!team) throw new ApiError(404, "NOT_FOUND", "No team has this invite code. Check it with your team-mate.");
  await assertNoTeam(user);
  try {
    await db.$transaction(async (tx) => {
      // The team's lock, as uploads take it (lib/intake/submit-model.ts): two joins cannot both take
      // the last place, and a join cannot slip past a first submission being written.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${team.id}::bigint)`;
      await assertTeamChangeOpen(tx, { userId: user.id, teamId: team.id }, "join", team.name);
      await assertRoomInTeam(tx, team);
      await tx.teamMember.create({ data: { teamId: team.id, userId: user.id } });
    });
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
      throw new ApiError(409, "CONFLICT", "You are already in a team. Leave it first: one team per person.");
    }
    throw error;
  }
  return team;
}

/**
 * Leaves the user's team. The team and its submissions stay (they are on the leaderboard and
 * the remaining members keep them); a team whose last member leaves stays, empty. Refused past a
 * merge deadline of a task the person or the team has submitted to.
 */
export async function leaveTeam(user: SessionUser): Promise<{ left: string | null }> {
  const membership = await db.teamMember.findUnique({ where: { userId: user.id }, select: { id: true, teamId: true, team: { select: { name: true } } } });
  if (!membership) return { left: null };
  await assertTeamChangeOpen(db, { userId: user.id, teamId: membership.teamId }, "leave", membership.team.name);
  await db.teamMember.delete({ where: { id: membership.id } });
  return { left: membership.team.name };
}
