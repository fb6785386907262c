import "server-only";
import { db } from "../db";
import { ApiError } from "../errors";
import type { SessionUser } from "../auth/session";
import { recordAudit } from "./audit";
import { assertAdmin } from "./authorize";

/** Users and teams as organisers manage them. */
export interface UserRow {
  id: number;
  email: string;
  name: string;
  role: "PARTICIPANT" | "ADMIN";
  disabled: boolean;
  team: { id: number; name: string } | null;
  createdAt: string;
}

export async function listUsers(actor: SessionUser | null): Promise<UserRow[]> {
  assertAdmin(actor);
  const rows = await db.user.findMany({
    orderBy: { id: "asc" },
    select: { id: true, email: true, name: true, role: true, disabledAt: true, createdAt: true, membership: { select: { team: { select: { id: true, name: true } } } } },
  });
  return rows.map((row) => ({
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    disabled: row.disabledAt !== null,
    team: row.membership?.team ?? null,
    createdAt: row.createdAt.toISOString(),
  }));
}

export interface TeamRow {
  id: number;
  name: string;
  members: number;
  submissionsToday: number;
}

export async function listTeams(actor: SessionUser | null): Promise<TeamRow[]> {
  assertAdmin(actor);
  const dayStart = new Date(new Date().setUTCHours(0, 0, 0, 0));
  const rows = await db.team.findMany({
    orderBy: { name: "asc" },
    select: { id: true, name: true, _count: { select: { members: true, submissions: { where: { createdAt: { gte: dayStart } } } } } },
  });
  return rows.map((row) => ({ id: row.id, name: row.name, members: row._count.members, submissionsToday: row._count.submissions }));
}

function notYourself(actor: SessionUser, userId: number, what: string) {
  // An organiser who demotes or disables themself could leave the event without any organiser.
  if (actor.id === userId) throw new ApiError(409, "CONFLICT", `You cannot ${what} your own account.`);
}

async function userExists(userId: number) {
  const user = await db.user.findUnique({ where: { id: userId }, select: { id: true, email: true } });
  if (!user) throw new ApiError(404, "NOT_FOUND", `There is no user ${userId}.`);
  return user;
}

export async function setUserRole(actor: SessionUser | null, userId: number, role: "PARTICIPANT" | "ADMIN") {
  assertAdmin(actor);
  notYourself(actor, userId, "change the role of");
  const user = await userExists(userId);
  // The user's sessions end: a demoted organiser's open admin page must not keep its powers.
  await db.user.update({ where: { id: userId }, data: { role, sessionVersion: { increment: 1 } } });
  await recordAudit(db, actor.id, "user.role", `user:${userId}`, { email: user.email, role });
  return { message: `${user.email} is now ${role === "ADMIN" ? "an organiser" : "a participant"}.` };
}

/** A disabled user can no longer sign in, their sessions end, and their API tokens stop working (both re-read the user). */
export async function setUserDisabled(actor: SessionUser | null, userId: number, disabled: boolean) {
  assertAdmin(actor);
  notYourself(actor, userId, "disable");
  const user = await userExists(userId);
  await db.user.update({ where: { id: userId }, data: { disabledAt: disabled ? new Date() : null, ...(disabled ? { sessionVersion: { increment: 1 } } : {}) } });
  await recordAudit(db, actor.id, disabled ? "user.disable" : "user.enable", `user:${userId}`, { email: user.email });
  return { message: `${user.email} is ${disabled ? "disabled" : "enabled"}.` };
}

/** Moves a user to another team (or out of any team with teamId null). Their past submissions stay with the old team. */
export async function moveUserToTeam(actor: SessionUser | null, userId: number, teamId: number | null) {
  assertAdmin(actor);
  const user = await userExists(userId);
  if (teamId !== null && !(await db.team.findUnique({ where: { id: teamId }, select: { id: true } }))) {
    throw new ApiError(404, "NOT_FOUND", `There is no team ${teamId}.`);
  }
  await db.$transaction(async (tx) => {
    await tx.teamMember.deleteMany({ where: { userId } });
    if (teamId !== null) await tx.teamMember.create({ data: { userId, teamId } });
    await recordAudit(tx, actor.id, "user.move_team", `user:${userId}`, { email: user.email, teamId });
  });
  return { message: teamId === null ? `${user.email} is in no team now.` : `${user.email} moved to team ${teamId}.` };
}

/** Resets a team's daily quota (for one task, or all with taskId null): only later submissions count today. */
export async function resetTeamQuota(actor: SessionUser | null, teamId: number, taskId: number | null = null) {
  assertAdmin(actor);
  const team = await db.team.findUnique({ where: { id: teamId }, select: { name: true } });
  if (!team) throw new ApiError(404, "NOT_FOUND", `There is no team ${teamId}.`);
  await db.$transaction(async (tx) => {
    await tx.quotaReset.create({ data: { teamId, taskId, actorId: actor.id } });
    await recordAudit(tx, actor.id, "team.reset_quota", `team:${teamId}`, { team: team.name, taskId });
  });
  return { message: `The daily quota of "${team.name}" is reset.` };
}
