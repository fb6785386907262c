import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { configPath, normaliseUrl, resolveConfig, saveConfig } from "../../cli/src/config";
import { serverSentEvents } from "../../cli/src/follow";
import { renderTable } from "../../cli/src/table";

// The goat CLI's own pieces; tests/e2e/cli.test.ts runs the whole binary against the app.

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

describe("the CLI's event-stream reader", () => {
  it("reassembles events split across chunks, with CRLF or LF, and skips comments and keep-alives", async () => {
    const events = [];
    for await (const event of serverSentEvents(
      streamOf("retry: 3000\n: connected\n\n", "event: submis", "sion\ndata: {\"submissionId\":7,", "\"status\":\"RUNNING\"}\n\n: keepalive\n\n", "event: queue\r\ndata: {}\r\n\r\n", "data: a\ndata: b\n\n"),
    )) {
      events.push(event);
    }
    expect(events).toEqual([
      { event: "submission", data: '{"submissionId":7,"status":"RUNNING"}' },
      { event: "queue", data: "{}" },
      { event: "message", data: "a\nb" },
    ]);
  });
});

describe("the CLI's configuration", () => {
  it("writes the token readable by its owner only and lets GOAT_URL/GOAT_TOKEN override it", async () => {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), "goat-config-"));
    try {
      const environment = { XDG_CONFIG_HOME: home } as unknown as NodeJS.ProcessEnv;
      await expect(resolveConfig(environment)).rejects.toThrow(/No server or token configured/);
      const file = await saveConfig({ url: "http://localhost:8000", token: "goat_abc" }, environment);
      expect(file).toBe(path.join(home, "goat", "config.json"));
      expect(configPath(environment)).toBe(file);
      expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
      expect((await fs.stat(path.dirname(file))).mode & 0o777).toBe(0o700);
      expect(await resolveConfig(environment)).toEqual({ url: "http://localhost:8000", token: "goat_abc" });
      expect(await resolveConfig({ ...environment, GOAT_URL: "https://goat.example.org/", GOAT_TOKEN: "goat_env" })).toEqual({ url: "https://goat.example.org", token: "goat_env" });
    } finally {
      await fs.rm(home, { recursive: true, force: true });
    }
  });

  it("accepts only http(s) server URLs, without a trailing slash", () => {
    expect(normaliseUrl("http://localhost:8000/")).toBe("http://localhost:8000");
    expect(normaliseUrl("https://example.org/goat/")).toBe("https://example.org/goat");
    expect(() => normaliseUrl("localhost:8000")).toThrow(/not an http\(s\) URL|not a URL/);
    expect(() => normaliseUrl("ftp://example.org")).toThrow(/not an http\(s\) URL/);
  });
});

it("renders a table padded to the widest cell, with - for missing values", () => {
  expect(renderTable(["ID", "STATUS"], [[1, "SCORED"], [12, null]])).toBe("ID  STATUS\n--  ------\n1   SCORED\n12  -");
});
