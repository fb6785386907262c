import "server-only";
import type { Prisma } from "@/prisma/generated/client";
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
    select: { id: true, at: true, action: true, target: true, details: true, actor: { select: { email: true } } },
  });
  return rows.map((row) => ({
    id: row.id,
    at: row.at.toISOString(),
    actor: row.actor?.email ?? "platform",
    action: row.action,
    target: row.target,
    details: (row.details ?? {}) as Record<string, unknown>,
  }));
}
