import "server-only";
import { z } from "zod";
import { assertAdmin } from "../admin/authorize";
import { recordAudit } from "../admin/audit";
import type { SessionUser } from "../auth/session";
import { db } from "../db";
import { ApiError } from "../errors";
import { publishAnnouncementEvent } from "../events/announcement-events";
import { requireTask } from "./lookup";

/**
 * Organisers' announcements: short messages for one task or the whole event ("the private board
 * is revealed at 18:00", "task2's deadline moved"). Task pages show the task's and the
 * event-wide ones, newest first, and receive new ones live.
 */
export const ANNOUNCEMENT_MAX = 500;
/** A task page shows this many; older ones stay on the admin page. */
const SHOWN_ON_TASK_PAGES = 10;

export interface AnnouncementView {
  id: number;
  body: string;
  /** null: event-wide */
  task: string | null;
  createdAt: string;
}

export const announcementSchema = z.object({
  body: z
    .string()
    .trim()
    .min(1, "Write the announcement.")
    .max(ANNOUNCEMENT_MAX, `An announcement may be at most ${ANNOUNCEMENT_MAX} characters.`),
  /** a task's slug, or "" for every task */
  task: z.string().trim().default(""),
});

const viewSelect = { id: true, body: true, createdAt: true, task: { select: { slug: true } } } as const;

function toView(row: { id: number; body: string; createdAt: Date; task: { slug: string } | null }): AnnouncementView {
  return { id: row.id, body: row.body, task: row.task?.slug ?? null, createdAt: row.createdAt.toISOString() };
}

/** Public: what a task page shows (the task's own and the event-wide announcements). */
export async function announcementsForTask(taskSlug: string): Promise<AnnouncementView[]> {
  const task = await requireTask(taskSlug);
  const rows = await db.announcement.findMany({
    where: { OR: [{ taskId: task.id }, { taskId: null }] },
    orderBy: { id: "desc" },
    take: SHOWN_ON_TASK_PAGES,
    select: viewSelect,
  });
  return rows.map(toView);
}

/** The admin page's list: every announcement, newest first, with its author. */
export async function allAnnouncements(actor: SessionUser | null): Promise<(AnnouncementView & { author: string })[]> {
  assertAdmin(actor);
  const rows = await db.announcement.findMany({ orderBy: { id: "desc" }, take: 200, select: { ...viewSelect, author: { select: { name: true } } } });
  return rows.map((row) => ({ ...toView(row), author: row.author?.name ?? "an organiser" }));
}

export async function postAnnouncement(actor: SessionUser | null, input: { body: unknown; task?: unknown }): Promise<AnnouncementView> {
  assertAdmin(actor);
  const { body, task: slug } = announcementSchema.parse(input);
  const task = slug ? await requireTask(slug) : null;
  const row = await db.$transaction(async (tx) => {
    const created = await tx.announcement.create({ data: { body, taskId: task?.id ?? null, authorId: actor.id }, select: viewSelect });
    await recordAudit(tx, actor.id, "announcement.post", task ? `task:${task.slug}` : "event", { announcementId: created.id });
    return created;
  });
  const view = toView(row);
  await publishAnnouncementEvent({ announcementId: view.id, taskSlug: view.task, change: "posted" });
  return view;
}

export async function withdrawAnnouncement(actor: SessionUser | null, announcementId: number): Promise<void> {
  assertAdmin(actor);
  const row = await db.announcement.findUnique({ where: { id: announcementId }, select: viewSelect });
  if (!row) throw new ApiError(404, "NOT_FOUND", `There is no announcement ${announcementId}.`);
  await db.$transaction(async (tx) => {
    await tx.announcement.delete({ where: { id: announcementId } });
    await recordAudit(tx, actor.id, "announcement.withdraw", row.task ? `task:${row.task.slug}` : "event", { announcementId, body: row.body });
  });
  await publishAnnouncementEvent({ announcementId, taskSlug: row.task?.slug ?? null, change: "withdrawn" });
}
