import "server-only";
import http from "node:http";
import https from "node:https";
import { db } from "../db";
import { env } from "../env";
import { checkWebhookUrl, guardedLookup, RefusedWebhookUrl } from "./address-guard";
import { requestFor, type WebhookPayload } from "./messages";

/**
 * One attempt at one delivery: POST the event to the webhook's URL and record the answer (status
 * code, the first characters of the body, when). A 2xx answer delivers it; anything else throws so
 * BullMQ retries with backoff, and the last attempt's failure marks it FAILED. A refused URL
 * (SSRF guard) fails at once and is not retried.
 */
const EXCERPT_CHARS = 500;

interface Answer {
  statusCode: number;
  body: string;
}

function post(url: URL, body: string, headers: Record<string, string>, allowPrivate: boolean, timeoutMs: number): Promise<Answer> {
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      url,
      {
        method: "POST",
        headers: { ...headers, "Content-Length": String(Buffer.byteLength(body)) },
        lookup: guardedLookup(allowPrivate),
        timeout: timeoutMs,
      },
      (response) => {
        // Redirects are not followed: a 3xx is an answer like any other (and a way around the guard if followed).
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          if (text.length < EXCERPT_CHARS) text += chunk;
        });
        response.on("end", () => resolve({ statusCode: response.statusCode ?? 0, body: text.slice(0, EXCERPT_CHARS) }));
        response.on("error", reject);
      },
    );
    request.on("timeout", () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on("error", reject);
    request.end(body);
  });
}

/** Runs one attempt; `isLastAttempt` decides whether a failure is final. */
export async function attemptDelivery(deliveryId: number, isLastAttempt: boolean): Promise<"delivered" | "retry" | "failed" | "skipped"> {
  const delivery = await db.webhookDelivery.findUnique({
    where: { id: deliveryId },
    select: { id: true, status: true, payload: true, webhook: { select: { url: true, kind: true, secret: true, enabled: true } } },
  });
  // Already delivered or given up (a job added twice): nothing to do.
  if (!delivery || delivery.status !== "PENDING") return "skipped";
  const { webhook } = delivery;
  const now = new Date();
  const record = (data: { statusCode?: number | null; answerExcerpt: string; status?: "DELIVERED" | "FAILED" }) =>
    db.webhookDelivery.update({
      where: { id: deliveryId },
      data: { attempts: { increment: 1 }, lastAttemptAt: now, statusCode: data.statusCode ?? null, answerExcerpt: data.answerExcerpt, status: data.status, deliveredAt: data.status === "DELIVERED" ? now : undefined },
    });
  if (!webhook.enabled) {
    await record({ answerExcerpt: "Not sent: the webhook is disabled.", status: "FAILED" });
    return "failed";
  }
  const allowPrivate = env().WEBHOOK_ALLOW_PRIVATE;
  let answer: Answer;
  try {
    const url = await checkWebhookUrl(webhook.url, allowPrivate);
    const { body, headers } = requestFor(webhook.kind, webhook.secret, delivery.id, delivery.payload as unknown as WebhookPayload, now);
    answer = await post(url, body, headers, allowPrivate, env().WEBHOOK_TIMEOUT_MS);
  } catch (error) {
    const refused = error instanceof RefusedWebhookUrl || (error as { name?: string }).name === "RefusedWebhookUrl";
    await record({ answerExcerpt: `Not delivered: ${(error as Error).message}`, status: refused || isLastAttempt ? "FAILED" : undefined });
    return refused || isLastAttempt ? "failed" : "retry";
  }
  const delivered = answer.statusCode >= 200 && answer.statusCode < 300;
  await record({ statusCode: answer.statusCode, answerExcerpt: answer.body, status: delivered ? "DELIVERED" : isLastAttempt ? "FAILED" : undefined });
  return delivered ? "delivered" : isLastAttempt ? "failed" : "retry";
}
