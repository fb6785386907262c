import "server-only";
import type { Prisma } from "@goat/contracts/db";
import { db } from "../db";
import { assertAdmin } from "./authorize";
import type { SessionUser } from "../auth/session";

/** The audit log: who did what, when. Every organiser control writes one entry. */
type AuditWriter = { auditLogEntry: Pick<Prisma.TransactionClient["auditLogEntry"], "create"> };

export async function recordAudit(
  client: AuditWriter,
  actorId: number | null,
  action: string,
  target: string,
  details: Record<string, unknown> = {},
): Promise<void> {
  await client.auditLogEntry.create({ data: { actorId, action, target, details: details as Prisma.InputJsonValue } });
}

export interface AuditEntryView {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
}

export async function recentAuditEntries(actor: SessionUser | null, limit = 30): Promise<AuditEntryView[]> {
  assertAdmin(actor);
  const rows = await db.auditLogEntry.findMany({
    orderBy: { id: "desc" },
    take: limit,
    select: { id: true, at: true, action: true, target: true, details: true, actor: { select: { name: true, email: true } } },
  });
  const names = await targetNames(rows.map((row) => row.target));
  return rows.map((row) => ({
    id: row.id,
    at: row.at.toISOString(),
    actor: row.actor ? `${row.actor.name} (${row.actor.email})` : "platform",
    action: row.action,
    target: names.get(row.target) ?? row.target,
    details: (row.details ?? {}) as Record<string, unknown>,
  }));
}

/** Targets are stored as "kind:id"; the log reads better with the user's, team's or submission's name. */
async function targetNames(targets: string[]): Promise<Map<string, string>> {
  const ids = (kind: string) => [...new Set(targets.filter((target) => target.startsWith(`${kind}:`)).map((target) => Number(target.slice(kind.length + 1))))].filter(Number.isInteger);
  const [users, teams, submissions] = await Promise.all([
    db.user.findMany({ where: { id: { in: ids("user") } }, select: { id: true, name: true, email: true } }),
    db.team.findMany({ where: { id: { in: ids("team") } }, select: { id: true, name: true } }),
    db.submission.findMany({ where: { id: { in: ids("submission") } }, select: { id: true, task: { select: { slug: true } }, team: { select: { name: true } } } }),
  ]);
  const names = new Map<string, string>();
  for (const user of users) names.set(`user:${user.id}`, `user ${user.name} (${user.email})`);
  for (const team of teams) names.set(`team:${team.id}`, `team ${team.name}`);
  for (const submission of submissions) names.set(`submission:${submission.id}`, `submission #${submission.id} (${submission.task.slug}, ${submission.team.name})`);
  for (const target of targets) {
    if (target.startsWith("task:")) names.set(target, `task ${target.slice(5)}`);
    else if (target.startsWith("worker:")) names.set(target, `worker ${target.slice(7)}`);
  }
  return names;
}
