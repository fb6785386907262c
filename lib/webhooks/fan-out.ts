import "server-only";
import type { WebhookTrigger } from "@goat/contracts/webhook-jobs";
import { WEBHOOK_QUEUE, webhookTriggerSchema } from "@goat/contracts/webhook-jobs";
import { db } from "../db";
import { env } from "../env";
import { leaderboardForTask } from "../leaderboard/board";
import { sameScore } from "../leaderboard/ranking";
import type { WebhookEvent, WebhookPayload } from "./messages";
import { enqueueDelivery, webhookRedis } from "./queue";

/**
 * Turns a trigger into events, and each event into one delivery per enabled webhook that wants it:
 * a team's own webhooks for its submissions scored or failed; the organisers' for a new leader, a
 * platform failure, a lost worker and a revealed private board.
 */
interface RoutedEvent {
  payload: WebhookPayload;
  /** null: the organisers' webhooks */
  teamId: number | null;
}

const event = (name: WebhookEvent, data: Record<string, unknown>): WebhookPayload => ({ event: name, createdAt: new Date().toISOString(), data });

async function submissionEvents(submissionId: number): Promise<RoutedEvent[]> {
  const row = await db.submission.findUnique({
    where: { id: submissionId },
    select: {
      id: true,
      status: true,
      teamId: true,
      isReference: true,
      failureKind: true,
      message: true,
      attempts: true,
      team: { select: { name: true } },
      task: { select: { slug: true, rankMetric: true, id: true } },
      result: { select: { publicScore: true, publicMetrics: true } },
    },
  });
  if (!row || row.isReference) return [];
  const common = { task: row.task.slug, submissionId: row.id, team: row.team.name };
  if (row.status === "FAILED") {
    const failed = event("submission.failed", { ...common, failureKind: row.failureKind, message: row.message });
    const events: RoutedEvent[] = [{ payload: failed, teamId: row.teamId }];
    if (row.failureKind === "PLATFORM") {
      events.push({ payload: event("submission.platform_failure", { ...common, attempts: row.attempts, message: row.message }), teamId: null });
    }
    return events;
  }
  if (row.status !== "SCORED" || !row.result) return [];
  const scored = event("submission.scored", { ...common, metric: row.task.rankMetric, score: row.result.publicScore, metrics: row.result.publicMetrics });
  const events: RoutedEvent[] = [{ payload: scored, teamId: row.teamId }];
  const leader = await newLeader(row.task.slug, row.task.id, row.id);
  if (leader) events.push({ payload: event("leaderboard.new_leader", leader), teamId: null });
  return events;
}

/**
 * The submission is the public board's sole leader, and the last leader announced for the task was
 * another submission (kept in Redis, swapped atomically, so two deliveries of the same trigger
 * announce it once).
 */
async function newLeader(taskSlug: string, taskId: number, submissionId: number): Promise<Record<string, unknown> | null> {
  const board = await leaderboardForTask(taskSlug, "public");
  const [first, second] = board.entries;
  if (!first || first.submissionId !== submissionId || (second && sameScore(second.score, first.score))) return null;
  const key = `${env().QUEUE_PREFIX}:${WEBHOOK_QUEUE}:leader:${taskId}`;
  const previous = await webhookRedis().set(key, String(submissionId), "GET");
  if (previous === String(submissionId)) return null;
  const previousTeam = previous ? board.entries.find((entry) => entry.submissionId === Number(previous))?.team ?? null : null;
  return { task: taskSlug, team: first.team, score: first.score, metric: board.metric, submissionId, previousLeader: previousTeam };
}

async function triggerEvents(trigger: WebhookTrigger): Promise<RoutedEvent[]> {
  const parsed = webhookTriggerSchema.parse(trigger);
  switch (parsed.trigger) {
    case "submission-finished":
      return submissionEvents(parsed.submissionId);
    case "worker-lost":
      return [{ payload: event("worker.lost", { workerId: parsed.workerId, requeued: parsed.requeued }), teamId: null }];
    case "private-revealed": {
      const board = await leaderboardForTask(parsed.taskSlug, "private");
      const top = board.board === "private" ? board.entries[0] : undefined;
      return [{ payload: event("leaderboard.private_revealed", { task: parsed.taskSlug, leader: top ? { team: top.team, score: top.score } : null }), teamId: null }];
    }
  }
}

/** Creates the deliveries of a trigger and queues them; returns their ids. */
export async function fanOutTrigger(trigger: WebhookTrigger): Promise<number[]> {
  const deliveryIds: number[] = [];
  for (const routed of await triggerEvents(trigger)) {
    const webhooks = await db.webhook.findMany({
      where: {
        enabled: true,
        events: { has: routed.payload.event },
        ...(routed.teamId === null ? { scope: "ORGANISERS" } : { scope: "TEAM", teamId: routed.teamId }),
      },
      select: { id: true },
    });
    for (const webhook of webhooks) {
      const delivery = await db.webhookDelivery.create({
        data: { webhookId: webhook.id, event: routed.payload.event, payload: routed.payload as object },
        select: { id: true },
      });
      await enqueueDelivery(delivery.id);
      deliveryIds.push(delivery.id);
    }
  }
  return deliveryIds;
}
