import { afterEach, describe, expect, it } from "vitest";
import { forgetLeaderboardPages, keptPageAudience, keptPageRequest, leaderboardPage, leaderboardPageSlug } from "@/lib/leaderboard/page-html-cache";

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

  it("a browser's GET of the page as a document, without a token; the theme cookie is part of the page, and a session cookie chooses the signed-in variant", () => {
    const html = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    const asked = (headers: Record<string, string>) => keptPageRequest("GET", new Headers({ accept: html, ...headers }));
    expect(asked({})).toEqual({ theme: "system", audience: "anonymous" });
    expect(asked({ "sec-fetch-dest": "document" })).toEqual({ theme: "system", audience: "anonymous" });
    expect(asked({ cookie: "goat-theme=dark; authjs.csrf-token=x" })).toEqual({ theme: "dark", audience: "anonymous" });
    expect(asked({ cookie: "goat-theme=<script>" })).toEqual({ theme: "system", audience: "anonymous" });
    expect(asked({ cookie: "authjs.session-token=abc" })).toEqual({ theme: "system", audience: "member" });
    expect(asked({ cookie: "goat-theme=dark; __Secure-authjs.session-token.0=abc" })).toEqual({ theme: "dark", audience: "member" });
    for (const headers of [
      { authorization: "Bearer goat_x" },
      { "next-action": "x" },
      { "x-goat-page-render": "member" },
      // Next's own fetch of the page (client-side navigation, prefetch, refresh): its RSC headers never reach the proxy, these do.
      { accept: "*/*", "sec-fetch-dest": "empty" },
      { accept: "*/*" },
      { "sec-fetch-dest": "empty" },
      { accept: "" },
    ] as Record<string, string>[]) {
      expect(asked(headers), JSON.stringify(headers)).toBeNull();
    }
    expect(keptPageRequest("GET", new Headers())).toBeNull(); // curl's default: not a browser's document
    expect(keptPageRequest("POST", new Headers({ accept: html }))).toBeNull();
    expect(keptPageRequest("HEAD", new Headers({ accept: html }))).toBeNull();
  });

  it("a render asked for by the proxy names its audience; any other value is a page rendered for its own request", () => {
    expect(keptPageAudience("anonymous")).toBe("anonymous");
    expect(keptPageAudience("member")).toBe("member");
    for (const value of [null, "", "1", "Member", "admin"]) expect(keptPageAudience(value), String(value)).toBeNull();
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
