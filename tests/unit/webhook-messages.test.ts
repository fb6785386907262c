import { createHmac } from "node:crypto";
import { expect, it } from "vitest";
import { requestFor, type WebhookPayload } from "@/lib/webhooks/messages";

// What receivers get, per kind: names come from users, so neither Slack nor Discord may be made to ping a channel.
const payload: WebhookPayload = {
  event: "submission.scored",
  createdAt: "2026-11-29T10:00:00.000Z",
  data: { task: "task2", submissionId: 7, team: "<!channel> & co", score: 0.91354, metric: "accuracy" },
};

it("escapes Slack markup in names and tells Discord to ping no one", () => {
  expect(JSON.parse(requestFor("SLACK", "s", 1, payload).body)).toEqual({ text: "&lt;!channel&gt; &amp; co's submission 7 on task2 scored 0.9135 (accuracy)." });
  expect(JSON.parse(requestFor("DISCORD", "s", 1, payload).body)).toEqual({ content: "<!channel> & co's submission 7 on task2 scored 0.9135 (accuracy).", allowed_mentions: { parse: [] } });
});

it("signs the generic body as t=<seconds>,v1=HMAC-SHA256(secret, '<t>.<body>')", () => {
  const { body, headers } = requestFor("GENERIC", "whsec_test", 42, payload, new Date("2026-11-29T10:00:05Z"));
  const t = Date.parse("2026-11-29T10:00:05Z") / 1000;
  expect(headers["X-Goat-Signature"]).toBe(`t=${t},v1=${createHmac("sha256", "whsec_test").update(`${t}.${body}`).digest("hex")}`);
  expect(headers).toMatchObject({ "X-Goat-Event": "submission.scored", "X-Goat-Delivery": "42", "Content-Type": "application/json" });
  expect(JSON.parse(body)).toMatchObject({ id: 42, event: "submission.scored", data: payload.data });
});
