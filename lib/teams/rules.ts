import "server-only";
import type { Prisma } from "@goat/contracts/db";
import { db } from "../db";
import { ApiError } from "../errors";
import { eventSettings } from "./event-settings";

/**
 * The rules on team changes (docs/ranking.md, "Teams and daily quota"):
 *
 * - Team merge deadline, per task: `Task.teamMergeDeadline`, or when the task opens when none is
 *   set (a task with no opening time opened when it was created). From the deadline until the task
 *   closes, a person cannot join, leave or create a team if they have submitted to the task (in any
 *   team) or if the team they would join or leave has. Organisers' reference models do not count,
 *   and a closed task no longer holds anyone. Organisers can still move people (admin users page).
 * - Maximum team size, event-wide (`EventSettings.maxTeamSize`): a join that would pass it is
 *   refused. Organisers' moves are not limited.
 */
export interface TeamChangeClosure {
  taskSlug: string;
  taskTitle: string;
  /** when team changes closed for this task (ISO) */
  closedAt: string;
  /** who has submitted to the task: the person themself, or the team they would join or leave */
  because: "you" | "team";
}

type TaskDates = { teamMergeDeadline: Date | null; opensAt: Date | null; createdAt: Date };

/** When team changes close for a task: its own deadline, else when it opens (or opened, at creation). */
export function effectiveMergeDeadline(task: TaskDates): Date {
  return task.teamMergeDeadline ?? task.opensAt ?? task.createdAt;
}

/** Tasks whose merge deadline has passed and that are not closed yet. */
function mergeDeadlinePassed(now: Date): Prisma.TaskWhereInput {
  return {
    AND: [
      {
        OR: [
          { teamMergeDeadline: { lte: now } },
          { teamMergeDeadline: null, opensAt: { lte: now } },
          { teamMergeDeadline: null, opensAt: null, createdAt: { lte: now } },
        ],
      },
      { OR: [{ closesAt: null }, { closesAt: { gt: now } }] },
    ],
  };
}

type TaskReader = { task: Pick<Prisma.TransactionClient["task"], "findFirst"> };

const closureSelect = { slug: true, title: true, teamMergeDeadline: true, opensAt: true, createdAt: true } as const;

/**
 * The first task that closes team changes for this person (and, when given, the team they would
 * join or leave), or null when they may change teams.
 */
export async function teamChangeClosure(client: TaskReader, who: { userId: number; teamId: number | null }, now = new Date()): Promise<TeamChangeClosure | null> {
  const byYou = await client.task.findFirst({
    where: { ...mergeDeadlinePassed(now), submissions: { some: { userId: who.userId, isReference: false } } },
    orderBy: { id: "asc" },
    select: closureSelect,
  });
  const byTeam =
    byYou || who.teamId === null
      ? null
      : await client.task.findFirst({
          where: { ...mergeDeadlinePassed(now), submissions: { some: { teamId: who.teamId, isReference: false } } },
          orderBy: { id: "asc" },
          select: closureSelect,
        });
  const task = byYou ?? byTeam;
  if (!task) return null;
  return { taskSlug: task.slug, taskTitle: task.title, closedAt: effectiveMergeDeadline(task).toISOString(), because: byYou ? "you" : "team" };
}

/** "29 Nov 2026, 14:00 UTC": a server message cannot know the reader's zone; the page shows local times. */
function humanUtc(iso: string): string {
  return `${new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }).format(new Date(iso))} UTC`;
}

export function teamChangesClosedMessage(closure: TeamChangeClosure, change: "join" | "leave" | "create", teamName?: string): string {
  const what = change === "create" ? "create a team" : `${change} ${teamName ? `"${teamName}"` : "a team"}`;
  const who = closure.because === "you" ? "you have submitted to it" : change === "join" ? "that team has submitted to it" : "your team has submitted to it";
  return `You cannot ${what} now: team changes for the task "${closure.taskTitle}" closed on ${humanUtc(closure.closedAt)}, and ${who}. They stay closed until the task ends; ask the organisers if you must change teams.`;
}

export async function assertTeamChangeOpen(client: TaskReader, who: { userId: number; teamId: number | null }, change: "join" | "leave" | "create", teamName?: string, now = new Date()): Promise<void> {
  const closure = await teamChangeClosure(client, who, now);
  if (closure) throw new ApiError(409, "TEAM_CHANGES_CLOSED", teamChangesClosedMessage(closure, change, teamName), { task: closure.taskSlug, closedAt: closure.closedAt });
}

type TeamSizeReader = {
  teamMember: Pick<Prisma.TransactionClient["teamMember"], "count">;
  eventSettings: Pick<Prisma.TransactionClient["eventSettings"], "findUnique">;
};

export function teamFullMessage(teamName: string, members: number, maxTeamSize: number): string {
  return `"${teamName}" is full: it has ${members} member${members === 1 ? "" : "s"} and the organisers allow at most ${maxTeamSize} per team.`;
}

/** Refuses a join that would make the team larger than the event's maximum team size. */
export async function assertRoomInTeam(client: TeamSizeReader, team: { id: number; name: string }): Promise<void> {
  const { maxTeamSize } = await eventSettings(client);
  if (maxTeamSize === null) return;
  const members = await client.teamMember.count({ where: { teamId: team.id } });
  if (members >= maxTeamSize) throw new ApiError(409, "TEAM_FULL", teamFullMessage(team.name, members, maxTeamSize), { members, maxTeamSize });
}

export interface TaskMergeDeadline {
  slug: string;
  title: string;
  /** ISO */
  closesTeamChangesAt: string;
  /** the task's own deadline, or (false) the default: when it opens */
  explicit: boolean;
  passed: boolean;
}

/** The team page's list: every task not closed yet, with when it closes team changes. */
export async function mergeDeadlinesOfOpenTasks(now = new Date()): Promise<TaskMergeDeadline[]> {
  const tasks = await db.task.findMany({
    where: { OR: [{ closesAt: null }, { closesAt: { gt: now } }] },
    orderBy: { id: "asc" },
    select: closureSelect,
  });
  return tasks.map((task) => {
    const deadline = effectiveMergeDeadline(task);
    return { slug: task.slug, title: task.title, closesTeamChangesAt: deadline.toISOString(), explicit: task.teamMergeDeadline !== null, passed: deadline <= now };
  });
}
