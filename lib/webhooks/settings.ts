import "server-only";
import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { SessionUser } from "../auth/session";
import { assertAdmin } from "../admin/authorize";
import { recordAudit } from "../admin/audit";
import { db } from "../db";
import { env } from "../env";
import { ApiError } from "../errors";
import { checkWebhookUrl, RefusedWebhookUrl } from "./address-guard";
import { ORGANISER_EVENTS, TEAM_EVENTS } from "./messages";

/**
 * Who may configure which webhook, and what organisers see of deliveries. A team has at most one
 * webhook (set on the team page by any member) for its own submissions; organisers keep any
 * number for the platform's events (admin area). URLs are checked (http(s), no private address
 * unless WEBHOOK_ALLOW_PRIVATE) when saved and again at every delivery.
 */
export const webhookFormSchema = z.object({
  url: z.string().trim().min(1, "Give the receiver's URL.").max(2_000),
  kind: z.enum(["SLACK", "DISCORD", "GENERIC"]),
});
export const organiserWebhookFormSchema = webhookFormSchema.extend({
  events: z.array(z.enum(ORGANISER_EVENTS)).min(1, "Choose at least one event.").default([...ORGANISER_EVENTS]),
});

export interface WebhookView {
  id: number;
  url: string;
  kind: "SLACK" | "DISCORD" | "GENERIC";
  secret: string;
  events: string[];
  enabled: boolean;
  team: string | null;
}

export interface DeliveryView {
  id: number;
  webhookId: number;
  url: string;
  kind: string;
  team: string | null;
  event: string;
  status: "PENDING" | "DELIVERED" | "FAILED";
  attempts: number;
  statusCode: number | null;
  answerExcerpt: string | null;
  createdAt: string;
  lastAttemptAt: string | null;
}

const webhookSelect = { id: true, url: true, kind: true, secret: true, events: true, enabled: true, team: { select: { name: true } } } as const;

function toView(row: { id: number; url: string; kind: WebhookView["kind"]; secret: string; events: string[]; enabled: boolean; team: { name: string } | null }): WebhookView {
  return { id: row.id, url: row.url, kind: row.kind, secret: row.secret, events: row.events, enabled: row.enabled, team: row.team?.name ?? null };
}

async function acceptableUrl(url: string): Promise<string> {
  try {
    return (await checkWebhookUrl(url, env().WEBHOOK_ALLOW_PRIVATE)).toString();
  } catch (error) {
    if (error instanceof RefusedWebhookUrl) throw new ApiError(422, "VALIDATION_FAILED", error.message);
    throw error;
  }
}

const newSecret = () => `whsec_${randomBytes(24).toString("base64url")}`;

function requireTeam(user: SessionUser | null): number {
  if (!user) throw new ApiError(401, "UNAUTHORIZED", "Sign in first.");
  if (!user.team) throw new ApiError(403, "NO_TEAM", "You are in no team yet: create or join one first.");
  return user.team.id;
}

export async function teamWebhook(user: SessionUser | null): Promise<(WebhookView & { deliveries: DeliveryView[] }) | null> {
  const teamId = requireTeam(user);
  const row = await db.webhook.findFirst({ where: { scope: "TEAM", teamId }, select: webhookSelect });
  if (!row) return null;
  return { ...toView(row), deliveries: await deliveries({ webhookId: row.id }, 10) };
}

/** Sets the team's webhook (creating it, with a new secret, or changing its URL and kind). */
export async function saveTeamWebhook(user: SessionUser | null, input: z.input<typeof webhookFormSchema>): Promise<WebhookView> {
  const teamId = requireTeam(user);
  const form = webhookFormSchema.parse(input);
  const url = await acceptableUrl(form.url);
  const existing = await db.webhook.findFirst({ where: { scope: "TEAM", teamId }, select: { id: true } });
  const row = existing
    ? await db.webhook.update({ where: { id: existing.id }, data: { url, kind: form.kind, enabled: true }, select: webhookSelect })
    : await db.webhook.create({ data: { scope: "TEAM", teamId, url, kind: form.kind, secret: newSecret(), events: [...TEAM_EVENTS] }, select: webhookSelect });
  return toView(row);
}

export async function removeTeamWebhook(user: SessionUser | null): Promise<void> {
  const teamId = requireTeam(user);
  await db.webhook.deleteMany({ where: { scope: "TEAM", teamId } });
}

export async function organiserWebhooks(actor: SessionUser | null): Promise<WebhookView[]> {
  assertAdmin(actor);
  const rows = await db.webhook.findMany({ where: { scope: "ORGANISERS" }, select: webhookSelect, orderBy: { id: "asc" } });
  return rows.map(toView);
}

export async function addOrganiserWebhook(actor: SessionUser | null, input: z.input<typeof organiserWebhookFormSchema>): Promise<WebhookView> {
  assertAdmin(actor);
  const form = organiserWebhookFormSchema.parse(input);
  const url = await acceptableUrl(form.url);
  const row = await db.webhook.create({ data: { scope: "ORGANISERS", url, kind: form.kind, secret: newSecret(), events: form.events }, select: webhookSelect });
  await recordAudit(db, actor.id, "webhook.add", `webhook:${row.id}`, { url: new URL(url).origin, kind: form.kind, events: form.events });
  return toView(row);
}

/** Enables, disables or deletes any webhook (a team's too: organisers can stop a noisy one). */
export async function changeWebhook(actor: SessionUser | null, id: number, change: "enable" | "disable" | "delete"): Promise<void> {
  assertAdmin(actor);
  const found = await db.webhook.findUnique({ where: { id }, select: { id: true } });
  if (!found) throw new ApiError(404, "NOT_FOUND", `There is no webhook ${id}.`);
  if (change === "delete") await db.webhook.delete({ where: { id } });
  else await db.webhook.update({ where: { id }, data: { enabled: change === "enable" } });
  await recordAudit(db, actor.id, `webhook.${change}`, `webhook:${id}`);
}

async function deliveries(where: { webhookId?: number }, limit: number): Promise<DeliveryView[]> {
  const rows = await db.webhookDelivery.findMany({
    where,
    orderBy: { id: "desc" },
    take: limit,
    select: {
      id: true,
      webhookId: true,
      event: true,
      status: true,
      attempts: true,
      statusCode: true,
      answerExcerpt: true,
      createdAt: true,
      lastAttemptAt: true,
      webhook: { select: { url: true, kind: true, team: { select: { name: true } } } },
    },
  });
  return rows.map((row) => ({
    id: row.id,
    webhookId: row.webhookId,
    url: row.webhook.url,
    kind: row.webhook.kind,
    team: row.webhook.team?.name ?? null,
    event: row.event,
    status: row.status,
    attempts: row.attempts,
    statusCode: row.statusCode,
    answerExcerpt: row.answerExcerpt,
    createdAt: row.createdAt.toISOString(),
    lastAttemptAt: row.lastAttemptAt?.toISOString() ?? null,
  }));
}

/** Every webhook's latest deliveries and the receivers' answers, for the organisers. */
export async function recentDeliveries(actor: SessionUser | null, limit = 100): Promise<DeliveryView[]> {
  assertAdmin(actor);
  return deliveries({}, limit);
}

/** Every team webhook, for the organisers' overview. */
export async function teamWebhooks(actor: SessionUser | null): Promise<WebhookView[]> {
  assertAdmin(actor);
  const rows = await db.webhook.findMany({ where: { scope: "TEAM" }, select: webhookSelect, orderBy: { id: "asc" } });
  return rows.map(toView);
}
