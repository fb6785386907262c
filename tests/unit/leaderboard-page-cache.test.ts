import { afterEach, describe, expect, it } from "vitest";
import { anonymousPageRequest, forgetLeaderboardPages, leaderboardPage, leaderboardPageSlug } from "@/lib/leaderboard/page-html-cache";

/** A stand-in for the server's own render: an HTML answer with a nonce policy, counted. */
function renderer(status = 200) {
  let renders = 0;
  let release: () => void = () => undefined;
  const gate = { held: false };
  const render = async () => {
    renders++;
    if (gate.held) await new Promise<void>((resolve) => (release = resolve));
    return new Response(`<html>render ${renders}</html>`, {
      status,
      headers: { "content-type": "text/html; charset=utf-8", "content-security-policy": `script-src 'nonce-n${renders}' 'strict-dynamic'`, "x-other": "dropped" },
    });
  };
  return {
    render,
    count: () => renders,
    hold: () => (gate.held = true),
    release: () => {
      gate.held = false;
      release();
    },
  };
}

let n = 0;
const fresh = () => `task-${++n}`;

afterEach(() => {
  delete (globalThis as { goatLeaderboardPages?: unknown }).goatLeaderboardPages;
});

describe("which requests get the kept leaderboard page", () => {
  it("only the leaderboard page path", () => {
    expect(leaderboardPageSlug("/tasks/digits/leaderboard")).toBe("digits");
    expect(leaderboardPageSlug("/tasks/a%20b/leaderboard")).toBe("a b");
    for (const path of ["/tasks/digits", "/tasks/digits/leaderboard/", "/tasks/digits/leaderboard/events", "/api/tasks/digits/leaderboard"]) expect(leaderboardPageSlug(path), path).toBeNull();
  });

  it("a plain GET without a session cookie or token; the theme cookie is part of the page", () => {
    expect(anonymousPageRequest("GET", new Headers())).toEqual({ theme: "system" });
    expect(anonymousPageRequest("GET", new Headers({ cookie: "goat-theme=dark; authjs.csrf-token=x" }))).toEqual({ theme: "dark" });
    expect(anonymousPageRequest("GET", new Headers({ cookie: "goat-theme=<script>" }))).toEqual({ theme: "system" });
    for (const headers of [
      { cookie: "authjs.session-token=abc" },
      { cookie: "goat-theme=dark; __Secure-authjs.session-token.0=abc" },
      { authorization: "Bearer goat_x" },
      { rsc: "1" },
      { "next-router-prefetch": "1" },
      { "next-router-state-tree": "x" },
      { "next-action": "x" },
      { "x-goat-page-render": "1" },
    ] as Record<string, string>[]) {
      expect(anonymousPageRequest("GET", new Headers(headers)), JSON.stringify(headers)).toBeNull();
    }
    expect(anonymousPageRequest("POST", new Headers())).toBeNull();
    expect(anonymousPageRequest("HEAD", new Headers())).toBeNull();
  });
});

describe("the kept page", () => {
  it("is rendered once for a crowd, then served as kept bytes with the render's own policy", async () => {
    const slug = fresh();
    const r = renderer();
    r.hold();
    const crowd = Array.from({ length: 20 }, () => leaderboardPage(`k|${slug}`, slug, r.render));
    await new Promise((resolve) => setImmediate(resolve));
    r.release();
    const answers = await Promise.all(crowd);
    expect(r.count()).toBe(1);
    for (const answer of answers) expect(answer).toMatchObject({ hit: false });
    const again = await leaderboardPage(`k|${slug}`, slug, r.render);
    expect(again?.hit).toBe(true);
    expect(new TextDecoder().decode(again!.page.body)).toBe("<html>render 1</html>");
    expect(again!.page.headers).toEqual({ "content-type": "text/html; charset=utf-8", "content-security-policy": "script-src 'nonce-n1' 'strict-dynamic'" });
    expect(r.count()).toBe(1);
  });

  it("is dropped with its task's boards; a render under way when they drop is served but not kept", async () => {
    const [slug, other] = [fresh(), fresh()];
    const r = renderer();
    await leaderboardPage(`a|${slug}`, slug, r.render);
    await leaderboardPage(`a|${other}`, other, r.render);
    forgetLeaderboardPages(slug);
    expect((await leaderboardPage(`a|${other}`, other, r.render))?.hit).toBe(true);
    expect((await leaderboardPage(`a|${slug}`, slug, r.render))?.hit).toBe(false);
    expect(r.count()).toBe(3);

    forgetLeaderboardPages(slug);
    r.hold();
    const underway = leaderboardPage(`a|${slug}`, slug, r.render);
    await new Promise((resolve) => setImmediate(resolve));
    forgetLeaderboardPages(slug); // a new score arrives while the page renders
    r.release();
    expect((await underway)?.hit).toBe(false);
    expect((await leaderboardPage(`a|${slug}`, slug, r.render))?.hit).toBe(false);
    expect(r.count()).toBe(5);
  });

  it("is not kept when the render is not a 200 HTML page with a nonce policy", async () => {
    const slug = fresh();
    expect(await leaderboardPage(`x|${slug}`, slug, renderer(404).render)).toBeNull();
    expect(await leaderboardPage(`x|${slug}`, slug, async () => new Response("{}", { headers: { "content-type": "application/json", "content-security-policy": "script-src 'nonce-a'" } }))).toBeNull();
    expect(await leaderboardPage(`x|${slug}`, slug, async () => new Response("<html>", { headers: { "content-type": "text/html" } }))).toBeNull();
    expect(await leaderboardPage(`x|${slug}`, slug, async () => Promise.reject(new Error("connection refused")))).toBeNull();
  });

  it("keeps at most 64 pages (odd query strings only miss) and none older than 10 s", async () => {
    const slug = fresh();
    const r = renderer();
    for (let i = 0; i < 70; i++) await leaderboardPage(`q|${slug}?page=${i}`, slug, r.render);
    expect((globalThis as unknown as { goatLeaderboardPages: { pages: Map<string, unknown> } }).goatLeaderboardPages.pages.size).toBe(64);
    expect((await leaderboardPage(`q|${slug}?page=69`, slug, r.render))?.hit).toBe(true);
    expect((await leaderboardPage(`q|${slug}?page=0`, slug, r.render))?.hit).toBe(false);

    const kept = await leaderboardPage(`q|${slug}?page=69`, slug, r.render);
    kept!.page.storedAt -= 10_001;
    expect((await leaderboardPage(`q|${slug}?page=69`, slug, r.render))?.hit).toBe(false);
  });
});
