import "server-only";
import { z } from "zod";
import type { Prisma } from "@goat/contracts/db";
import { recordAudit } from "../admin/audit";
import { assertAdmin } from "../admin/authorize";
import type { SessionUser } from "../auth/session";
import { db } from "../db";

/**
 * The event's settings that organisers change from the admin pages, kept in one row
 * (event_settings.id = 1) that exists once first saved. Today: the maximum team size.
 */
export interface EventSettingsView {
  /** null: teams may grow without limit */
  maxTeamSize: number | null;
}

const SETTINGS_ID = 1;

type SettingsReader = { eventSettings: Pick<Prisma.TransactionClient["eventSettings"], "findUnique"> };

export async function eventSettings(client: SettingsReader = db): Promise<EventSettingsView> {
  const row = await client.eventSettings.findUnique({ where: { id: SETTINGS_ID }, select: { maxTeamSize: true } });
  return { maxTeamSize: row?.maxTeamSize ?? null };
}

/** An empty field lifts the limit; otherwise a whole number of members, at least 1. */
export const maxTeamSizeSchema = z
  .string()
  .trim()
  .transform((text) => (text === "" ? null : Number(text)))
  .refine((value) => value === null || (Number.isInteger(value) && value >= 1 && value <= 1000), "a whole number of members from 1 to 1000, or empty for no limit");

/**
 * Sets the maximum team size. It limits joins from then on; a team already larger keeps its
 * members (nobody is removed) and takes no one new until it is under the limit.
 */
export async function setMaxTeamSize(actor: SessionUser | null, maxTeamSize: number | null): Promise<{ message: string }> {
  assertAdmin(actor);
  const value = maxTeamSizeSchema.parse(maxTeamSize === null ? "" : String(maxTeamSize));
  await db.$transaction(async (tx) => {
    await tx.eventSettings.upsert({ where: { id: SETTINGS_ID }, create: { id: SETTINGS_ID, maxTeamSize: value }, update: { maxTeamSize: value } });
    await recordAudit(tx, actor.id, "event.max_team_size", "event", { maxTeamSize: value });
  });
  return { message: value === null ? "Teams have no size limit now." : `Teams may have at most ${value} member${value === 1 ? "" : "s"} now.` };
}
