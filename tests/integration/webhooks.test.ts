import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SessionUser } from "@/lib/auth/session";
import { signatureIsValid, startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver";

// Webhooks end to end inside one process: real Postgres rows, the real BullMQ queue and consumer on
// the real Redis, and a real HTTP receiver on 127.0.0.1. Loopback is refused unless the organisers
// allow private addresses, so each test sets WEBHOOK_ALLOW_PRIVATE itself.
process.env.WEBHOOK_BACKOFF_MS = "200";
process.env.WEBHOOK_ATTEMPTS = "3";
const { env, resetEnvForTests } = await import("@/lib/env");
const { db } = await import("@/lib/db");
const { checkWebhookUrl } = await import("@/lib/webhooks/address-guard");
const { startWebhookConsumer, stopWebhookConsumer } = await import("@/lib/webhooks/consumer");
const { notifyWebhooks } = await import("@/lib/webhooks/queue");
const settings = await import("@/lib/webhooks/settings");
const { setPrivateRevealed } = await import("@/lib/admin/controls");
const { handBackLostWorkers } = await import("@/lib/admin/worker-health");
const { participantWithTeam, randomRows, int64Labels, taskWithDataset } = await import("./support/fixtures");
const { waitFor } = await import("./support/wait");

function allowPrivate(allowed: boolean) {
  process.env.WEBHOOK_ALLOW_PRIVATE = String(allowed);
  resetEnvForTests();
  expect(env().WEBHOOK_ALLOW_PRIVATE).toBe(allowed);
}

const organiser: SessionUser = { id: 0, email: "org@test.local", name: "Organiser", role: "ADMIN", team: null };
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  const admin = await db.user.create({ data: { email: `org-${Date.now()}@test.local`, name: "Organiser", passwordHash: "x", role: "ADMIN" } });
  organiser.id = admin.id;
  startWebhookConsumer();
});

afterAll(async () => {
  await stopWebhookConsumer();
  await receiver?.close();
  allowPrivate(false);
});

/** A SCORED submission with its result, as the worker leaves it. */
async function scoredSubmission(taskId: number, teamId: number, userId: number, score: number) {
  const submission = await db.submission.create({
    data: { taskId, teamId, userId, fileName: "model.onnx", sha256: "a".repeat(64), sizeBytes: 10, storageKey: "k", paramCount: 1n, status: "SCORED", finishedAt: new Date() },
  });
  await db.result.create({
    data: {
      submissionId: submission.id,
      publicMetrics: { accuracy: score },
      privateMetrics: { accuracy: score },
      publicScore: score,
      privateScore: score,
      latencyP50Ms: 1,
      latencyP95Ms: 2,
      modelBytes: 10,
      paramCount: 1n,
      receipt: {},
    },
  });
  return submission;
}

describe("webhook URLs (SSRF)", () => {
  it("refuses non-http(s) URLs and hosts that are or resolve to loopback, private or link-local addresses", async () => {
    for (const url of [
      "ftp://example.org/hook",
      "http://user:pass@example.org/",
      "http://127.0.0.1:9/hook",
      "http://localhost:9/hook",
      "http://10.1.2.3/",
      "http://192.168.0.10/",
      "http://172.20.0.1/",
      "http://169.254.169.254/latest/meta-data",
      "http://[::1]/",
      "http://[::ffff:127.0.0.1]/",
      "http://[fd00::1]/",
    ]) {
      await expect(checkWebhookUrl(url, false), url).rejects.toThrow(/http|user name|resolves to/);
    }
    await expect(checkWebhookUrl("https://93.184.216.34/hook", false)).resolves.toBeInstanceOf(URL);
    await expect(checkWebhookUrl("http://127.0.0.1:9/hook", true)).resolves.toBeInstanceOf(URL);
  });

  it("refuses to save a team webhook on a loopback URL unless private addresses are allowed", async () => {
    const { user, team } = await participantWithTeam();
    const member: SessionUser = { id: user.id, email: user.email, name: user.name, role: "PARTICIPANT", team: { id: team.id, name: team.name } };
    allowPrivate(false);
    await expect(settings.saveTeamWebhook(member, { url: `${receiver.url}/team`, kind: "GENERIC" })).rejects.toThrow(/loopback, private or link-local/);
    expect(await db.webhook.count({ where: { teamId: team.id } })).toBe(0);
    allowPrivate(true);
    const saved = await settings.saveTeamWebhook(member, { url: `${receiver.url}/team`, kind: "GENERIC" });
    expect(saved.secret).toMatch(/^whsec_/);
  });

  it("does not deliver to a webhook whose host resolves to loopback at delivery time when private addresses are not allowed", async () => {
    allowPrivate(false);
    // Saved while allowed (or a name that resolved elsewhere then): the check at connect time still refuses it.
    const hook = await db.webhook.create({
      data: { scope: "ORGANISERS", url: `${receiver.url.replace("127.0.0.1", "localhost")}/refused`, kind: "GENERIC", secret: "s", events: ["worker.lost"] },
    });
    await notifyWebhooks({ trigger: "worker-lost", workerId: "refused-worker", requeued: [] });
    const delivery = await waitFor("the refused delivery to be recorded", () =>
      db.webhookDelivery.findFirst({ where: { webhookId: hook.id, status: "FAILED" } }),
    );
    expect(delivery.statusCode).toBeNull();
    expect(delivery.attempts).toBe(1);
    expect(delivery.answerExcerpt).toMatch(/resolves to (127\.0\.0\.1|::1)/);
    expect(receiver.received.filter((each) => each.path === "/refused")).toHaveLength(0);
    await db.webhook.delete({ where: { id: hook.id } });
  });
});

describe("webhook deliveries", () => {
  it("delivers a scored submission to the team's signed generic webhook (retried after a 500) and a new leader to Slack and Discord", async () => {
    allowPrivate(true);
    const { user, team } = await participantWithTeam();
    const member: SessionUser = { id: user.id, email: user.email, name: user.name, role: "PARTICIPANT", team: { id: team.id, name: team.name } };
    const teamHook = await settings.saveTeamWebhook(member, { url: `${receiver.url}/generic`, kind: "GENERIC" });
    await settings.addOrganiserWebhook(organiser, { url: `${receiver.url}/slack`, kind: "SLACK", events: ["leaderboard.new_leader"] });
    await settings.addOrganiserWebhook(organiser, { url: `${receiver.url}/discord`, kind: "DISCORD", events: ["leaderboard.new_leader", "worker.lost"] });
    const task = await taskWithDataset({ inputs: randomRows(6, 4, 1), labels: int64Labels([0, 1, 2, 0, 1, 2]) });
    receiver.failFirst("/generic", 1);

    const submission = await scoredSubmission(task.id, team.id, user.id, 0.75);
    await notifyWebhooks({ trigger: "submission-finished", submissionId: submission.id, finishedAt: submission.finishedAt!.toISOString() });

    const generic = await waitFor("the generic webhook's retry to succeed", async () => {
      const hits = receiver.received.filter((each) => each.path === "/generic");
      return hits.length >= 2 ? hits : null;
    });
    expect(generic.map((each) => each.answered)).toEqual([500, 200]);
    for (const hit of generic) {
      expect(signatureIsValid(teamHook.secret, hit)).toBe(true);
      expect(signatureIsValid("another secret", hit)).toBe(false);
      expect(hit.headers["x-goat-event"]).toBe("submission.scored");
    }
    expect(generic[0].headers["x-goat-delivery"]).toBe(generic[1].headers["x-goat-delivery"]);
    expect(generic[1].json).toMatchObject({ event: "submission.scored", data: { task: task.slug, submissionId: submission.id, team: team.name, score: 0.75, metric: "accuracy" } });

    const slack = await waitFor("Slack's message", async () => receiver.received.find((each) => each.path === "/slack"));
    expect(slack.json).toEqual({ text: `New leader on ${task.slug}: ${team.name} with 0.7500 (accuracy).` });
    const discord = await waitFor("Discord's message", async () => receiver.received.find((each) => each.path === "/discord"));
    expect(discord.json).toMatchObject({ content: `New leader on ${task.slug}: ${team.name} with 0.7500 (accuracy).` });

    const delivery = await waitFor("the delivery's record", () =>
      db.webhookDelivery.findFirst({ where: { webhookId: teamHook.id, status: "DELIVERED" } }),
    );
    expect(delivery).toMatchObject({ event: "submission.scored", attempts: 2, statusCode: 200, answerExcerpt: "ok, thanks" });
    const seen = await settings.recentDeliveries(organiser);
    expect(seen.find((each) => each.id === delivery.id)).toMatchObject({ team: team.name, status: "DELIVERED", statusCode: 200 });

    // The same submission again is no new leader: Slack hears nothing more.
    const before = receiver.received.filter((each) => each.path === "/slack").length;
    await notifyWebhooks({ trigger: "submission-finished", submissionId: submission.id, finishedAt: new Date().toISOString() });
    await waitFor("the repeated team delivery", async () => (receiver.received.filter((each) => each.path === "/generic").length >= 3 ? true : null));
    expect(receiver.received.filter((each) => each.path === "/slack")).toHaveLength(before);
  });

  it("marks a delivery FAILED with the receiver's last answer once every attempt got a 500", async () => {
    allowPrivate(true);
    const hook = await settings.addOrganiserWebhook(organiser, { url: `${receiver.url}/always-down`, kind: "GENERIC", events: ["worker.lost"] });
    receiver.failFirst("/always-down", 10);
    await notifyWebhooks({ trigger: "worker-lost", workerId: "gpu-9", requeued: [41] });
    const delivery = await waitFor("the delivery to give up", () => db.webhookDelivery.findFirst({ where: { webhookId: hook.id, status: "FAILED" } }), 20_000);
    expect(delivery).toMatchObject({ event: "worker.lost", attempts: 3, statusCode: 500, answerExcerpt: "receiver down for a moment" });
    const hits = receiver.received.filter((each) => each.path === "/always-down");
    expect(hits).toHaveLength(3);
    expect(hits[0].json).toMatchObject({ event: "worker.lost", data: { workerId: "gpu-9", requeued: [41] } });
    await settings.changeWebhook(organiser, hook.id, "delete");
  });
});

describe("where events come from", () => {
  it("tells the organisers' webhook when an organiser reveals a private board and when the sweep finds a worker lost", async () => {
    allowPrivate(true);
    const hook = await settings.addOrganiserWebhook(organiser, { url: `${receiver.url}/organisers`, kind: "GENERIC", events: ["leaderboard.private_revealed", "worker.lost"] });
    const { user, team } = await participantWithTeam();
    const task = await taskWithDataset({ inputs: randomRows(6, 4, 2), labels: int64Labels([0, 1, 2, 0, 1, 2]) });
    await scoredSubmission(task.id, team.id, user.id, 0.5);

    await setPrivateRevealed(organiser, task.slug, true);
    const revealed = await waitFor("the reveal's webhook", async () => receiver.received.find((each) => each.path === "/organisers" && each.json.event === "leaderboard.private_revealed"));
    expect(revealed.json.data).toEqual({ task: task.slug, leader: { team: team.name, score: 0.5 } });
    expect(signatureIsValid(hook.secret, revealed)).toBe(true);

    const longAgo = new Date(Date.now() - 3_600_000);
    await db.worker.create({ data: { id: `silent-${task.slug}`, host: "gpu-host", executionProvider: "cpu", heartbeatIntervalMs: 1_000, figures: {}, lastHeartbeatAt: longAgo } });
    expect((await handBackLostWorkers()).lost).toContain(`silent-${task.slug}`);
    // Other files' workers (one database per run) may be swept as lost at the same moment: this one's event is the one to check.
    const lost = await waitFor("the lost worker's webhook", async () =>
      receiver.received.find((each) => each.path === "/organisers" && each.json.event === "worker.lost" && (each.json.data as { workerId?: string }).workerId === `silent-${task.slug}`),
    );
    expect(lost.json.data).toEqual({ workerId: `silent-${task.slug}`, requeued: [] });
    await settings.changeWebhook(organiser, hook.id, "delete");
  });
});

describe("who may configure webhooks", () => {
  it("lets only organisers see deliveries and change webhooks, and a team see only its own webhook", async () => {
    allowPrivate(true);
    const alpha = await participantWithTeam();
    const beta = await participantWithTeam();
    const asMember = (p: typeof alpha): SessionUser => ({ id: p.user.id, email: p.user.email, name: p.user.name, role: "PARTICIPANT", team: { id: p.team.id, name: p.team.name } });
    const alphaHook = await settings.saveTeamWebhook(asMember(alpha), { url: `${receiver.url}/alpha`, kind: "DISCORD" });

    await expect(settings.recentDeliveries(asMember(alpha))).rejects.toMatchObject({ status: 403 });
    await expect(settings.organiserWebhooks(asMember(alpha))).rejects.toMatchObject({ status: 403 });
    await expect(settings.addOrganiserWebhook(asMember(alpha), { url: `${receiver.url}/x`, kind: "SLACK" })).rejects.toMatchObject({ status: 403 });
    await expect(settings.changeWebhook(asMember(beta), alphaHook.id, "delete")).rejects.toMatchObject({ status: 403 });
    await expect(settings.changeWebhook(null, alphaHook.id, "disable")).rejects.toMatchObject({ status: 401 });

    expect(await settings.teamWebhook(asMember(beta))).toBeNull();
    expect(await settings.teamWebhook(asMember(alpha))).toMatchObject({ id: alphaHook.id, url: `${receiver.url}/alpha`, kind: "DISCORD" });
    await settings.removeTeamWebhook(asMember(beta));
    expect(await db.webhook.count({ where: { id: alphaHook.id } })).toBe(1);

    await settings.changeWebhook(organiser, alphaHook.id, "disable");
    expect(await settings.teamWebhook(asMember(alpha))).toMatchObject({ enabled: false });
    expect((await settings.teamWebhooks(organiser)).map((each) => each.team)).toContain(alpha.team.name);
  });
});
