import IORedis from "ioredis";
import { NextRequest } from "next/server";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { afterAll, describe, expect, it, vi } from "vitest";

// Abuse: guessing passwords or tokens, mass sign-ups, flooding the status and leaderboard APIs,
// tying up the intake with slow uploads and holding many event streams open. Each limit must
// trip (429, Retry-After, the JSON error shape) and reset. Tiny limits and windows come from the
// settings, as an organiser would set them.
const limits = {
  RATE_LIMIT_SIGNIN_FAILURES_PER_ACCOUNT: "3",
  RATE_LIMIT_SIGNIN_FAILURES_PER_IP: "5",
  RATE_LIMIT_SIGNIN_WINDOW_S: "2",
  RATE_LIMIT_SIGNUPS_PER_IP: "2",
  RATE_LIMIT_SIGNUP_WINDOW_S: "2",
  RATE_LIMIT_BAD_TOKENS_PER_IP: "3",
  RATE_LIMIT_BAD_TOKEN_WINDOW_S: "2",
  RATE_LIMIT_POLLS_PER_IP: "3",
  RATE_LIMIT_POLL_WINDOW_S: "2",
  RATE_LIMIT_UPLOADS_IN_FLIGHT_PER_TEAM: "2",
  RATE_LIMIT_UPLOADS_IN_FLIGHT_PER_IP: "3",
  RATE_LIMIT_EVENT_STREAMS_PER_USER: "2",
  RATE_LIMIT_EVENT_STREAMS_PER_IP: "3",
  TRUST_PROXY: "1",
};
Object.assign(process.env, limits);

// The sign-up action reads the caller's address through next/headers.
const request = vi.hoisted(() => ({ ip: "203.0.113.1" }));
vi.mock("next/headers", () => ({ headers: async () => new Headers({ "x-forwarded-for": request.ip }), cookies: async () => ({ getAll: () => [] }) }));

const { resetEnvForTests } = await import("@/lib/env");
resetEnvForTests();
const { signUpAction } = await import("@/app/signup/actions");
const { POST: authRoute } = await import("@/app/api/auth/[...nextauth]/route");
const { POST: submitRoute } = await import("@/app/submit/[task]/route");
const { GET: leaderboardRoute } = await import("@/app/api/tasks/[task]/leaderboard/route");
const { GET: queueStatusRoute } = await import("@/app/submit/queue/status/route");
const { GET: submissionEventsRoute } = await import("@/app/api/tasks/[task]/submissions/events/route");
const { GET: leaderboardEventsRoute } = await import("@/app/api/tasks/[task]/leaderboard/events/route");
const { createUser } = await import("@/lib/accounts/users");
const { int64Labels, participantWithTeam, randomRows, scoredSubmission, taskWithDataset, uniqueName } = await import("../integration/support/fixtures");
const { signInThroughNextAuth } = await import("./support/next-auth");
const { waitFor } = await import("./support/event-reader");
const { env } = await import("@/lib/env");
const { LeasedLimit, leaseSize } = await import("@/lib/http/limit-leases");

afterAll(() => {
  for (const key of Object.keys(limits)) delete process.env[key];
  resetEnvForTests();
});

let ipCounter = 10;
/** A fresh client address per test, so one test's counts never trip another's. */
const freshIp = () => `198.51.100.${ipCounter++}`;

/** The 429 answer every limit gives: JSON error shape and a Retry-After in whole seconds. */
async function expectRateLimited(response: Response) {
  expect(response.status).toBe(429);
  const retryAfter = Number(response.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  const body = await response.json();
  expect(body).toEqual({ error: { code: "RATE_LIMITED", message: expect.stringMatching(/Try again in \d+ s\.$/), retryAfterSeconds: retryAfter } });
}

/** The real sign-in route (its gate answers before next-auth is reached). */
function signInRoute(email: string, ip: string) {
  const body = new URLSearchParams({ email, password: "whatever", csrfToken: "x", json: "true" });
  const req = new NextRequest("http://localhost:8000/api/auth/callback/credentials", {
    method: "POST",
    body,
    headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": ip },
  });
  return authRoute(req, { params: Promise.resolve({ nextauth: ["callback", "credentials"] }) });
}

describe("sign-in", () => {
  it("per account: after 3 failures even the right password is refused (429 at the route), until the window ends", async () => {
    const email = `${uniqueName("victim")}@test.local`;
    await createUser({ email, name: "Victim", password: "victim-password-1" });
    // The attacker spreads over addresses; the account's count still trips.
    for (let i = 0; i < 3; i++) expect(await signInThroughNextAuth(email, `guess-${i}-password`, freshIp())).toBeNull();
    await expectRateLimited(await signInRoute(email, freshIp()));
    expect(await signInThroughNextAuth(email, "victim-password-1", freshIp())).toBeNull();
    await waitFor("the sign-in window to end", async () => (await signInThroughNextAuth(email, "victim-password-1", freshIp())) !== null, 6_000);
  });

  it("per address: after 5 failures over any accounts the address is refused; another address is not", async () => {
    const ip = freshIp();
    const email = `${uniqueName("known")}@test.local`;
    await createUser({ email, name: "Known", password: "known-password-1" });
    for (let i = 0; i < 5; i++) expect(await signInThroughNextAuth(`${uniqueName("nobody")}@test.local`, "some-password-1", ip)).toBeNull();
    await expectRateLimited(await signInRoute(email, ip));
    expect(await signInThroughNextAuth(email, "known-password-1", ip)).toBeNull();
    expect(await signInThroughNextAuth(email, "known-password-1", freshIp())).not.toBeNull();
    await waitFor("the sign-in window to end", async () => (await signInThroughNextAuth(email, "known-password-1", ip)) !== null, 6_000);
  });

  it("takes as long for an unknown email as for a wrong password (no account enumeration by timing)", async () => {
    const email = `${uniqueName("timed")}@test.local`;
    await createUser({ email, name: "Timed", password: "timed-password-1" });
    const { verifyPassword } = await import("@/lib/accounts/users");
    const time = async (address: string) => {
      const started = process.hrtime.bigint();
      expect(await verifyPassword(address, "not-the-password")).toBeNull();
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 9; i++) {
      known.push(await time(email));
      unknown.push(await time(`${uniqueName("ghost")}@test.local`));
    }
    // Both verify one argon2id hash (tens of ms); without the dummy hash an unknown email answers in ~1 ms.
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.6);
    expect(median(unknown)).toBeLessThan(median(known) * 1.6);
  });
});

describe("sign-up", () => {
  const form = () => {
    const data = new FormData();
    const email = `${uniqueName("signup")}@test.local`;
    for (const [key, value] of Object.entries({ name: "New", email, password: "signup-pass-1", confirmPassword: "signup-pass-1" })) data.set(key, value);
    return data;
  };

  it("per address: the third sign-up within the window is refused with a message; another address is not; then it resets", async () => {
    request.ip = freshIp();
    expect((await signUpAction(null, form())).ok).toBe(true);
    expect((await signUpAction(null, form())).ok).toBe(true);
    const refused = await signUpAction(null, form());
    expect(refused).toMatchObject({ ok: false, message: expect.stringMatching(/Too many sign-ups from your address\. Try again in \d+ s\./) });
    const blockedIp = request.ip;
    request.ip = freshIp();
    expect((await signUpAction(null, form())).ok).toBe(true);
    request.ip = blockedIp;
    await waitFor("the sign-up window to end", async () => (await signUpAction(null, form())).ok, 6_000);
  });
});

describe("API tokens and polling", () => {
  it("bad tokens per address: after 3, even a valid token from that address gets 429; other addresses are served; then it resets", async () => {
    const member = await participantWithTeam();
    const ip = freshIp();
    const call = (token: string, from: string) => queueStatusRoute(new Request("http://localhost:8000/submit/queue/status", { headers: { authorization: `Bearer ${token}`, "x-forwarded-for": from } }));
    for (let i = 0; i < 3; i++) expect((await call(`goat_guess${i}`, ip)).status).toBe(401);
    await expectRateLimited(await call(member.token, ip));
    expect((await call(member.token, freshIp())).status).toBe(200);
    await waitFor("the bad-token window to end", async () => (await call(member.token, ip)).status === 200, 6_000);
  });

  it("leaderboard and status polling per address: the fourth request in the window is 429, then it resets", async () => {
    const task = await taskWithDataset({ inputs: randomRows(6, 4, 9), labels: int64Labels([0, 1, 2, 0, 1, 2]) });
    const ip = freshIp();
    const poll = (from: string) => leaderboardRoute(new Request(`http://localhost:8000/api/tasks/${task.slug}/leaderboard`, { headers: { "x-forwarded-for": from } }), { params: Promise.resolve({ task: task.slug }) });
    for (let i = 0; i < 3; i++) expect((await poll(ip)).status).toBe(200);
    await expectRateLimited(await poll(ip));
    // X-Forwarded-For entries left of the trusted proxy's are the client's own writing: ignored.
    await expectRateLimited(await poll(`10.9.8.7, ${ip}`));
    expect((await poll(freshIp())).status).toBe(200);
    await waitFor("the polling window to end", async () => (await poll(ip)).status === 200, 6_000);
  });

  it("an anonymous poll the web server answers before Next counts against the same per-address limit; over it, Next answers 429", async () => {
    const { leaderboardPoll } = await import("@/lib/leaderboard/poll-answer");
    const task = await taskWithDataset({ inputs: randomRows(6, 4, 10), labels: int64Labels([0, 1, 2, 0, 1, 2]) });
    const url = `/api/tasks/${task.slug}/leaderboard`;
    const poll = (from: string) => leaderboardRoute(new Request(`http://localhost:8000${url}`, { headers: { "x-forwarded-for": from } }), { params: Promise.resolve({ task: task.slug }) });
    const early = (headers: Record<string, string>, remoteAddress = "127.0.0.1") => leaderboardPoll.answer({ method: "GET", url, headers, remoteAddress });
    const ip = freshIp();
    expect((await early({ "x-forwarded-for": ip }))?.status).toBe(200);
    expect((await poll(ip)).status).toBe(200);
    expect((await early({ "x-forwarded-for": ip }))?.status).toBe(200);
    // The fourth in the window: the early answer declines, and the route refuses it.
    expect(await early({ "x-forwarded-for": ip })).toBeNull();
    await expectRateLimited(await poll(ip));
    // Entries left of the trusted proxy's are the client's own writing, as for the route.
    expect(await early({ "x-forwarded-for": `10.9.8.7, ${ip}` })).toBeNull();
    // A request without X-Forwarded-For is keyed by the connection's address, as Next would set it.
    const peer = freshIp();
    for (let i = 0; i < 3; i++) expect((await early({}, peer))?.status).toBe(200);
    expect(await early({}, peer)).toBeNull();
    await expectRateLimited(await poll(peer));
  });

  it("the leaderboard page's viewer request (one per page view) counts against the same per-address limit, early answer and route alike", async () => {
    const { leaderboardViewerEarly } = await import("@/lib/leaderboard/viewer");
    const { GET: viewerRoute } = await import("@/app/api/tasks/[task]/leaderboard/viewer/route");
    const task = await taskWithDataset({ inputs: randomRows(6, 4, 12), labels: int64Labels([0, 1, 2, 0, 1, 2]) });
    const url = `/api/tasks/${task.slug}/leaderboard/viewer?board=public`;
    const viewer = (from: string) => viewerRoute(new Request(`http://localhost:8000${url}`, { headers: { "x-forwarded-for": from } }), { params: Promise.resolve({ task: task.slug }) });
    const early = (from: string) => leaderboardViewerEarly.answer({ method: "GET", url, headers: { "x-forwarded-for": from }, remoteAddress: "127.0.0.1" });
    const poll = (from: string) => leaderboardRoute(new Request(`http://localhost:8000/api/tasks/${task.slug}/leaderboard`, { headers: { "x-forwarded-for": from } }), { params: Promise.resolve({ task: task.slug }) });
    const ip = freshIp();
    expect((await early(ip))?.status).toBe(200);
    expect((await viewer(ip)).status).toBe(200);
    expect((await poll(ip)).status).toBe(200);
    // The fourth request of the window, whichever it is: the early answer declines, the route refuses.
    expect(await early(ip)).toBeNull();
    await expectRateLimited(await viewer(ip));
    await expectRateLimited(await poll(ip));
    expect((await viewer(freshIp())).status).toBe(200);
    await waitFor("the polling window to end", async () => (await viewer(ip)).status === 200, 6_000);
  });

  it("guessing tokens through the poll the web server answers before Next: each bad one counts against the address's bad-token limit, and over it a valid token reads no own row", async () => {
    const { leaderboardPoll } = await import("@/lib/leaderboard/poll-answer");
    const member = await participantWithTeam();
    const task = await taskWithDataset({ inputs: randomRows(6, 4, 11), labels: int64Labels([0, 1, 2, 0, 1, 2]) });
    const url = `/api/tasks/${task.slug}/leaderboard`;
    const early = async (token: string, from: string) => {
      const answer = await leaderboardPoll.answer({ method: "GET", url, headers: { authorization: `Bearer ${token}`, "x-forwarded-for": from }, remoteAddress: "127.0.0.1" });
      if (!answer?.body) throw new Error("the early answer declined the poll");
      return JSON.parse(Buffer.from(answer.body).toString()) as { ownEntry: unknown; team: unknown };
    };
    await scoredSubmission({ taskId: task.id, teamId: member.team.id, userId: member.user.id, publicScore: 0.7, privateScore: 0.6 });
    const status = (token: string, from: string) => queueStatusRoute(new Request("http://localhost:8000/submit/queue/status", { headers: { authorization: `Bearer ${token}`, "x-forwarded-for": from } }));
    expect((await early(member.token, freshIp())).ownEntry).toMatchObject({ team: member.team.name, score: 0.7 });
    const guesser = freshIp();
    // Three guesses (the poll limit is 3 too): each answered with the anonymous board, each counted.
    for (let i = 0; i < 3; i++) expect((await early(`goat_guess${i}`, guesser)).ownEntry).toBeNull();
    await expectRateLimited(await status(member.token, guesser));
    // Over the bad-token limit (reached through uploads here, which are not polls), a valid token
    // from that address is not looked up: no own row.
    const next = freshIp();
    const upload = (token: string) =>
      submitRoute(new Request(`http://localhost:8000/submit/${task.slug}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "x-forwarded-for": next } }), { params: Promise.resolve({ task: task.slug }) });
    for (let i = 0; i < 3; i++) expect((await upload(`goat_guess${i}`)).status).toBe(401);
    expect((await early(member.token, next)).ownEntry).toBeNull();
  });

  // The poll limit is counted in Redis a lease of points at a time (lib/http/limit-leases.ts); with
  // the limit of this file (3) a lease is one point. With a larger limit, two processes sharing the
  // Redis count (two LeasedLimit on one limiter) together still let exactly the limit through.
  it("leased polling counts: two processes together get exactly the limit per window (41 here), then both refuse without asking Redis, then it resets", async () => {
    const redis = new IORedis(env().REDIS_URL);
    try {
      const shared = new RateLimiterRedis({ storeClient: redis, keyPrefix: `${env().QUEUE_PREFIX}:rate:lease-test`, points: 41, duration: 2 });
      const [a, b] = [new LeasedLimit(shared, 41), new LeasedLimit(shared, 41)];
      expect(leaseSize(41)).toBe(2);
      const key = freshIp();
      const spend = (limit: InstanceType<typeof LeasedLimit>) => limit.consume(key).then(() => true, (error: unknown) => {
        if (error instanceof RateLimiterRes) return false;
        throw error;
      });
      const granted: boolean[] = [];
      // Interleaved, as a crowd behind one address would hit two processes; a window is 2 s, so
      // the whole round is one window unless the machine stalls (then more pass: checked below).
      const started = Date.now();
      for (let i = 0; i < 60; i++) granted.push(await spend(i % 3 === 0 ? b : a));
      const oneWindow = Date.now() - started < 1_500;
      if (oneWindow) expect(granted.filter(Boolean)).toHaveLength(41);
      expect(granted.slice(-5)).toEqual([false, false, false, false, false]);
      // Refused locally now: the shared count does not move.
      const counted = (await shared.get(key))!.consumedPoints;
      for (let i = 0; i < 10; i++) expect(await spend(a)).toBe(false);
      expect((await shared.get(key))!.consumedPoints).toBe(counted);
      // The window ends for both.
      await waitFor("the window to end for both processes", async () => (await spend(a)) && (await spend(b)), 6_000);
    } finally {
      redis.disconnect();
    }
  });
});

describe("uploads in flight", () => {
  /** An upload whose body stays open until `finish()`: what a slow (or malicious) client does. */
  function slowUpload(task: string, token: string, ip: string) {
    const boundary = "----goat-slow-upload";
    const encoder = new TextEncoder();
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let startedReading!: () => void;
    const reading = new Promise<void>((resolve) => (startedReading = resolve));
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
        c.enqueue(encoder.encode(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="model.onnx"\r\nContent-Type: application/octet-stream\r\n\r\nnot-onnx`));
      },
      pull() {
        startedReading();
      },
    });
    const answer = submitRoute(
      new Request(`http://localhost:8000/submit/${task}`, {
        method: "POST",
        body,
        headers: { authorization: `Bearer ${token}`, "content-type": `multipart/form-data; boundary=${boundary}`, "x-forwarded-for": ip },
        duplex: "half",
      } as RequestInit),
      { params: Promise.resolve({ task }) },
    );
    return {
      answer,
      /** resolves once the route reads the body, i.e. after it took its slots (or answered) */
      started: Promise.race([reading, answer]),
      finish: () => {
        controller.enqueue(encoder.encode(`\r\n--${boundary}--\r\n`));
        controller.close();
      },
    };
  }

  it("a team holds at most 2 uploads in flight and an address 3; a finished upload frees its slot", async () => {
    const task = await taskWithDataset({ inputs: randomRows(6, 4, 11), labels: int64Labels([0, 1, 2, 0, 1, 2]) });
    const alpha = await participantWithTeam();
    const beta = await participantWithTeam();
    const gamma = await participantWithTeam();
    const ip = freshIp();

    const first = slowUpload(task.slug, alpha.token, ip);
    await first.started;
    const second = slowUpload(task.slug, alpha.token, ip);
    await second.started;
    const third = slowUpload(task.slug, alpha.token, freshIp());
    await expectRateLimited(await third.answer);

    const otherTeam = slowUpload(task.slug, beta.token, ip);
    await otherTeam.started;
    const fourthFromIp = slowUpload(task.slug, gamma.token, ip);
    await expectRateLimited(await fourthFromIp.answer);

    for (const upload of [first, second, otherTeam]) upload.finish();
    for (const upload of [first, second, otherTeam]) expect((await upload.answer).status).toBe(422);

    const again = slowUpload(task.slug, alpha.token, ip);
    await again.started;
    again.finish();
    expect((await again.answer).status).toBe(422);
  });
});

describe("event streams", () => {
  it("a user holds at most 2 streams and an address 3; closing one frees its slot", async () => {
    const task = await taskWithDataset({ inputs: randomRows(6, 4, 13), labels: int64Labels([0, 1, 2, 0, 1, 2]) });
    const member = await participantWithTeam();
    const params = { params: Promise.resolve({ task: task.slug }) };
    const open = (headers: Record<string, string>, route = submissionEventsRoute) => {
      const abort = new AbortController();
      const url = `http://localhost:8000/api/tasks/${task.slug}/${route === submissionEventsRoute ? "submissions" : "leaderboard"}/events`;
      return { abort, response: route(new Request(url, { headers, signal: abort.signal }), params) };
    };
    const auth = { authorization: `Bearer ${member.token}` };

    const one = open({ ...auth, "x-forwarded-for": freshIp() });
    const two = open({ ...auth, "x-forwarded-for": freshIp() });
    expect((await one.response).status).toBe(200);
    expect((await two.response).status).toBe(200);
    await expectRateLimited(await open({ ...auth, "x-forwarded-for": freshIp() }).response);
    one.abort.abort();
    await waitFor("the closed stream's slot to be free", async () => {
      const retry = open({ ...auth, "x-forwarded-for": freshIp() });
      const response = await retry.response;
      if (response.status === 200) retry.abort.abort();
      return response.status === 200;
    });
    two.abort.abort();

    const ip = freshIp();
    const anonymous = [0, 1, 2].map(() => open({ "x-forwarded-for": ip }, leaderboardEventsRoute));
    for (const stream of anonymous) expect((await stream.response).status).toBe(200);
    await expectRateLimited(await open({ "x-forwarded-for": ip }, leaderboardEventsRoute).response);
    for (const stream of anonymous) stream.abort.abort();
  });
});
