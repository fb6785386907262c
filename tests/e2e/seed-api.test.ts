import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startPlatform, until, type Platform } from "./support/platform";

// The seed README's three curl commands, verbatim but for the port, against the real built web app,
// a real worker and a database seeded by the real seed script (as `npm run demo` does).

let platform: Platform;
const METRICS_TOKEN = "e2e-metrics-token-5f0c2a9d81b34e67a0c9";

function curl(commandLine: string): { status: number; body: Record<string, unknown> } {
  // Run through a shell, exactly as a participant would paste it; -w appends the status code.
  const output = execFileSync("bash", ["-c", `${commandLine} -s -w '\\n%{http_code}'`], { cwd: platform.workDir, encoding: "utf8" });
  const lines = output.trimEnd().split("\n");
  const status = Number(lines.pop());
  return { status, body: JSON.parse(lines.join("\n")) };
}

beforeAll(async () => {
  platform = await startPlatform({ extraEnv: { METRICS_TOKEN } });
  await fs.copyFile(path.join(platform.workDir, "demo", "baseline.onnx"), path.join(platform.workDir, "model.onnx"));
}, 600_000);

afterAll(async () => {
  await platform?.stop();
});

it("the seed's curl commands work verbatim with the printed token", async () => {
  const TOKEN = platform.credentials.participant.token;
  const port = platform.port;
  const submitted = curl(`curl -X POST http://localhost:${port}/submit/task2 -H "Authorization: Bearer ${TOKEN}" -F "file=@model.onnx"`);
  expect(submitted.status).toBe(202);
  expect(submitted.body).toMatchObject({ id: 2, task: "task2", status: "QUEUED", statusUrl: "/submit/task2/status/2" });

  const queue = curl(`curl http://localhost:${port}/submit/queue/status -H "Authorization: Bearer ${TOKEN}"`);
  expect(queue.status).toBe(200);
  expect(queue.body).toHaveProperty("waiting");
  expect(queue.body).toHaveProperty("workersOnline");

  // Submission 1 is the seed's baseline, evaluated by the worker on the 2,000 hidden MNIST digits.
  const scored = await until("the baseline to be scored", () => {
    const answer = curl(`curl http://localhost:${port}/submit/task2/status/1 -H "Authorization: Bearer ${TOKEN}"`);
    return answer.body.status === "SCORED" ? answer : null;
  });
  expect(scored.status).toBe(200);
  const result = scored.body.result as { score: number; metrics: Record<string, number>; receipt: { rows: number } };
  expect(result.score).toBeGreaterThan(0.85);
  expect(Object.keys(result.metrics).sort()).toEqual(["accuracy", "macro_f1", "top_k"]);
  expect(result.receipt.rows).toBe(2000);

  const second = await until("the uploaded copy to be scored", () => {
    const answer = curl(`curl http://localhost:${port}/submit/task2/status/2 -H "Authorization: Bearer ${TOKEN}"`);
    return answer.body.status === "SCORED" ? answer : null;
  });
  expect((second.body.result as { score: number }).score).toBe(result.score);

  const board = await (await fetch(`${platform.baseUrl}/api/tasks/task2/leaderboard`)).json();
  expect(board.entries).toHaveLength(1);
  expect(board.entries[0]).toMatchObject({ rank: 1, team: "Demo Team", score: result.score, submissionId: 1, submissionCount: 2 });
}, 120_000);

it("the built web server answers leaderboard polls, the kept page and the page's own part before Next, anonymous or signed in, and hands the rest to Next", async () => {
  const earlyAnswers = async (route = "leaderboard") => {
    const text = await (await fetch(`${platform.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    return Number(new RegExp(`^goat_early_answers_total\\{route="${route}"\\} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
  };
  const url = `${platform.baseUrl}/api/tasks/task2/leaderboard`;
  const before = await earlyAnswers();
  const anonymous = await fetch(url);
  expect(anonymous.status).toBe(200);
  expect(anonymous.headers.get("x-frame-options")).toBe("DENY");
  expect(anonymous.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
  const board = await anonymous.json();
  expect(await earlyAnswers()).toBe(before + 1);
  expect((await fetch(url, { headers: { "if-none-match": anonymous.headers.get("etag")! } })).status).toBe(304);
  expect(await earlyAnswers()).toBe(before + 2);

  // Signed in: answered early too, with the caller's own row, private to them.
  const signedInAnswer = await fetch(url, { headers: { authorization: `Bearer ${platform.credentials.participant.token}` } });
  expect(signedInAnswer.headers.get("cache-control")).toBe("private, max-age=2");
  const signedIn = await signedInAnswer.json();
  expect(signedIn.entries).toEqual(board.entries);
  expect(signedIn.ownEntry).toMatchObject({ team: "Demo Team", rank: 1 });
  expect(await earlyAnswers()).toBe(before + 3);
  // A bad token: the board alone, as anyone gets it.
  const badToken = await (await fetch(url, { headers: { authorization: "Bearer goat_not-a-token" } })).json();
  expect(badToken.ownEntry).toBeNull();
  expect(await earlyAnswers()).toBe(before + 4);
  // An unknown task: the route's error, through Next.
  const unknown = await fetch(`${platform.baseUrl}/api/tasks/no-such-task/leaderboard`);
  expect(unknown.status).toBe(404);
  expect((await unknown.json()).error.code).toBe("TASK_NOT_FOUND");
  expect(await earlyAnswers()).toBe(before + 4);

  // The leaderboard page's own part (a signed-in page view asks it once): early as well; an unknown task through Next.
  const viewerBefore = await earlyAnswers("leaderboard-viewer");
  const viewer = await fetch(`${platform.baseUrl}/api/tasks/task2/leaderboard/viewer`);
  expect(viewer.headers.get("cache-control")).toBe("private, no-store");
  expect(await viewer.json()).toEqual({ user: null, ownEntry: null, ownPublicScore: null, ownScores: null });
  expect(await earlyAnswers("leaderboard-viewer")).toBe(viewerBefore + 1);
  expect((await fetch(`${platform.baseUrl}/api/tasks/no-such-task/leaderboard/viewer`)).status).toBe(404);
  expect(await earlyAnswers("leaderboard-viewer")).toBe(viewerBefore + 1);

  // The leaderboard page: rendered and kept by Next's proxy (a miss), then its kept bytes answered early (hits).
  const pageUrl = `${platform.baseUrl}/tasks/task2/leaderboard?board=public`;
  const asBrowser = { accept: "text/html,application/xhtml+xml", "accept-encoding": "gzip" };
  const pageBefore = await earlyAnswers("leaderboard-page");
  const missed = await fetch(pageUrl, { headers: asBrowser });
  expect(missed.headers.get("x-goat-page-cache")).toBe("miss");
  const missedHtml = await missed.text();
  expect(await earlyAnswers("leaderboard-page")).toBe(pageBefore);
  const kept = await fetch(pageUrl, { headers: asBrowser });
  expect(kept.headers.get("x-goat-page-cache")).toBe("hit");
  expect(kept.headers.get("content-security-policy")).toBe(missed.headers.get("content-security-policy"));
  expect(kept.headers.get("x-frame-options")).toBe("DENY");
  expect(kept.headers.get("content-encoding")).toBe("gzip");
  // Next's Vary (its router headers and Accept-Encoding), Accept-Encoding named once.
  expect(kept.headers.get("vary")).toBe(missed.headers.get("vary"));
  expect(kept.headers.get("vary")!.match(/accept-encoding/gi)).toHaveLength(1);
  expect(await kept.text()).toBe(missedHtml);
  expect(await earlyAnswers("leaderboard-page")).toBe(pageBefore + 1);
  // A caller by token gets a page rendered for them, through Next.
  const own = await fetch(pageUrl, { headers: { ...asBrowser, authorization: `Bearer ${platform.credentials.participant.token}` } });
  expect(own.headers.get("x-goat-page-cache")).toBeNull();
  expect(await earlyAnswers("leaderboard-page")).toBe(pageBefore + 1);
});

it("the web server stops on SIGTERM within its grace period, an open event stream included (last: it stops the web app)", async () => {
  const stream = await fetch(`${platform.baseUrl}/api/tasks/task2/leaderboard/events`);
  expect(stream.status).toBe(200);
  const reader = stream.body!.getReader();
  expect(new TextDecoder().decode((await reader.read()).value)).toContain(": connected");
  const streamEnded = (async () => {
    try {
      while (!(await reader.read()).done);
    } catch {
      // the connection was closed under the reader: ended all the same
    }
    return true;
  })();
  const stopped = await platform.stopWeb();
  expect(stopped).toMatchObject({ exitCode: 143, signal: null });
  // STOP_GRACE_MS (5 s) for the stream, then Next's own close; not the 10 minutes a stream may last.
  expect(stopped.ms).toBeGreaterThanOrEqual(4_500);
  expect(stopped.ms).toBeLessThan(12_000);
  expect(await streamEnded).toBe(true);
  expect(platform.logs()).toContain("[web-server] SIGTERM: finishing open requests");
}, 30_000);
