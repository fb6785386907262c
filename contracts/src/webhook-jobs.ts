import { z } from "zod";

/**
 * The webhook queue, apart from the evaluation queue so that a slow or failing receiver never
 * delays an evaluation. Two kinds of job, both carrying ids only:
 * - a trigger ("something happened"), added by whoever saw it happen (the worker when it scores or
 *   fails a submission, the web app when a worker is lost or a board revealed); its consumer finds
 *   the webhooks that want it and adds one delivery per webhook;
 * - a delivery (one POST to one webhook), retried with exponential backoff.
 * The consumer runs in the web app (lib/webhooks/consumer.ts): the evaluation workers sit on a
 * network that reaches only Postgres and Redis.
 */
export const WEBHOOK_QUEUE = "webhooks";

export const webhookTriggerSchema = z.discriminatedUnion("trigger", [
  z.object({ trigger: z.literal("submission-finished"), submissionId: z.number().int().positive(), finishedAt: z.string().optional() }),
  z.object({ trigger: z.literal("worker-lost"), workerId: z.string(), requeued: z.array(z.number().int()).default([]) }),
  z.object({ trigger: z.literal("private-revealed"), taskSlug: z.string() }),
]);
export type WebhookTrigger = z.input<typeof webhookTriggerSchema>;

export const webhookDeliveryJobSchema = z.object({ deliveryId: z.number().int().positive() });

export const WEBHOOK_JOB_NAMES = { trigger: "trigger", deliver: "deliver" } as const;

/** The same event seen twice (a retried status publish, two web processes' sweeps) is one job. */
export function webhookTriggerJobId(trigger: WebhookTrigger): string {
  switch (trigger.trigger) {
    case "submission-finished":
      return `submission-finished-${trigger.submissionId}-${trigger.finishedAt ? Date.parse(trigger.finishedAt) : "now"}`;
    case "worker-lost":
      return `worker-lost-${trigger.workerId}-${Date.now()}`;
    case "private-revealed":
      return `private-revealed-${trigger.taskSlug}-${Date.now()}`;
  }
}

export const WEBHOOK_TRIGGER_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: "exponential" as const, delay: 1_000 },
  removeOnComplete: { age: 24 * 3600, count: 5_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 5_000 },
};

/** What adding a trigger needs from a BullMQ Queue (so this module does not depend on bullmq). */
export interface TriggerQueue {
  add(name: string, data: WebhookTrigger, options: typeof WEBHOOK_TRIGGER_JOB_OPTIONS & { jobId: string }): Promise<unknown>;
}

/** Adds a trigger. Best effort: a webhook is a notification, never a reason to fail the caller's work. */
export async function addWebhookTrigger(queue: TriggerQueue, trigger: WebhookTrigger): Promise<void> {
  try {
    await queue.add(WEBHOOK_JOB_NAMES.trigger, trigger, { ...WEBHOOK_TRIGGER_JOB_OPTIONS, jobId: webhookTriggerJobId(trigger) });
  } catch (error) {
    console.warn(`[webhooks] could not add the ${trigger.trigger} trigger: ${(error as Error).message}`);
  }
}
