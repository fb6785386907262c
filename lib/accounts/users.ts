import "server-only";
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { db } from "../db";
import { ApiError } from "../errors";
import { checkPassword, hashPassword } from "./passwords";
import { emailSchema, passwordSchema, personNameSchema, teamNameSchema } from "../schemas/accounts";

/** Users and teams: the organiser's CLI uses these now; the sign-up pages will use the same. */

export const newUserSchema = z.object({
  email: emailSchema,
  name: personNameSchema,
  password: passwordSchema,
  role: z.enum(["PARTICIPANT", "ADMIN"]).default("PARTICIPANT"),
});

export async function createUser(input: z.input<typeof newUserSchema>) {
  const user = newUserSchema.parse(input);
  const existing = await db.user.findUnique({ where: { email: user.email }, select: { id: true } });
  if (existing) throw new ApiError(409, "CONFLICT", `A user with the email ${user.email} already exists.`);
  return db.user.create({
    data: { email: user.email, name: user.name, role: user.role, passwordHash: await hashPassword(user.password) },
    select: { id: true, email: true, name: true, role: true },
  });
}

/**
 * The account behind an email and password, or null. An unknown email, a wrong password and a
 * disabled account take the same time (a hash is always verified), so the answer's timing does not
 * tell whether an account exists. A hash in an older format is replaced after a successful check.
 */
export async function verifyPassword(email: string, password: string) {
  const user = await db.user.findUnique({
    where: { email: email.toLowerCase() },
    select: { id: true, email: true, name: true, role: true, passwordHash: true, disabledAt: true, sessionVersion: true },
  });
  const check = await checkPassword(user?.passwordHash ?? null, password);
  if (!user || !check.ok || user.disabledAt) return null;
  if (check.needsRehash) await db.user.update({ where: { id: user.id }, data: { passwordHash: await hashPassword(password) } });
  return { id: user.id, email: user.email, name: user.name, role: user.role, sessionVersion: user.sessionVersion };
}

function newInviteCode(): string {
  return randomBytes(6).toString("base64url");
}

export async function createTeam(name: string) {
  const trimmed = teamNameSchema.parse(name);
  const existing = await db.team.findUnique({ where: { name: trimmed }, select: { id: true } });
  if (existing) throw new ApiError(409, "CONFLICT", `A team named "${trimmed}" already exists.`);
  return db.team.create({ data: { name: trimmed, inviteCode: newInviteCode() }, select: { id: true, name: true, inviteCode: true } });
}

/** One team per user for the event: a user already in a team must leave it first. */
export async function addTeamMember(teamId: number, userId: number) {
  const current = await db.teamMember.findUnique({ where: { userId }, select: { teamId: true } });
  if (current && current.teamId !== teamId) {
    throw new ApiError(409, "CONFLICT", "This user is already in another team; leave it first.");
  }
  if (current) return current;
  return db.teamMember.create({ data: { teamId, userId }, select: { teamId: true } });
}
