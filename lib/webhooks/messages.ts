import "server-only";
import { createHmac } from "node:crypto";

/**
 * What a webhook says, per event and per receiver kind. Generic receivers get our JSON, signed
 * (docs/webhooks.md says how to verify it); Slack and Discord get their incoming-webhook shapes,
 * `{ "text" }` (https://api.slack.com/messaging/webhooks) and `{ "content" }`
 * (https://discord.com/developers/docs/resources/webhook#execute-webhook). Messages are built from
 * our own fields only: never a model's output or a stack trace.
 */
export const TEAM_EVENTS = ["submission.scored", "submission.failed"] as const;
export const ORGANISER_EVENTS = ["leaderboard.new_leader", "submission.platform_failure", "worker.lost", "leaderboard.private_revealed"] as const;
export type WebhookEvent = (typeof TEAM_EVENTS)[number] | (typeof ORGANISER_EVENTS)[number];

export interface WebhookPayload {
  event: WebhookEvent;
  createdAt: string;
  data: Record<string, unknown>;
}

const format = (value: unknown) => (typeof value === "number" && !Number.isInteger(value) ? value.toFixed(4) : String(value));

export function messageText(payload: WebhookPayload): string {
  const data = payload.data;
  switch (payload.event) {
    case "submission.scored":
      return `${data.team}'s submission ${data.submissionId} on ${data.task} scored ${format(data.score)} (${data.metric}).`;
    case "submission.failed":
      return `${data.team}'s submission ${data.submissionId} on ${data.task} failed: ${data.message ?? "no message"}`;
    case "leaderboard.new_leader":
      return `New leader on ${data.task}: ${data.team} with ${format(data.score)} (${data.metric})${data.previousLeader ? `, ahead of ${data.previousLeader}` : ""}.`;
    case "submission.platform_failure":
      return `Platform failure: submission ${data.submissionId} of ${data.team} on ${data.task} failed after ${data.attempts} attempts: ${data.message ?? "no message"}`;
    case "worker.lost":
      return `Worker ${data.workerId} stopped responding; ${(data.requeued as number[]).length ? `submissions ${(data.requeued as number[]).join(", ")} went back to the queue` : "it had no submission in hand"}.`;
    case "leaderboard.private_revealed":
      return `The private leaderboard of ${data.task} is revealed${data.leader ? `: ${(data.leader as { team: string }).team} leads with ${format((data.leader as { score: number }).score)}` : ""}.`;
  }
}

export const SIGNATURE_HEADER = "X-Goat-Signature";

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the webhook's secret>` */
export function signBody(secret: string, body: string, timestampSeconds: number): string {
  const digest = createHmac("sha256", secret).update(`${timestampSeconds}.${body}`).digest("hex");
  return `t=${timestampSeconds},v1=${digest}`;
}

export function requestFor(kind: "SLACK" | "DISCORD" | "GENERIC", secret: string, deliveryId: number, payload: WebhookPayload, now = new Date()) {
  const headers: Record<string, string> = { "Content-Type": "application/json", "User-Agent": "MLS-GOAT-Webhooks/1" };
  let body: string;
  // Slack reads &, < and > as markup (<!channel> pings everyone): escape them, as its docs ask.
  if (kind === "SLACK") body = JSON.stringify({ text: messageText(payload).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;") });
  else if (kind === "DISCORD") body = JSON.stringify({ content: messageText(payload), allowed_mentions: { parse: [] } });
  else {
    body = JSON.stringify({ id: deliveryId, event: payload.event, createdAt: payload.createdAt, data: payload.data, text: messageText(payload) });
    headers["X-Goat-Event"] = payload.event;
    headers["X-Goat-Delivery"] = String(deliveryId);
    headers[SIGNATURE_HEADER] = signBody(secret, body, Math.floor(now.getTime() / 1000));
  }
  return { body, headers };
}
