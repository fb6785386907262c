import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A real HTTP receiver on 127.0.0.1 (a free port) that records every webhook POST. `failFirst`
 * makes a path answer 500 to its first N requests (those `matching`, when given), to prove
 * deliveries are retried.
 */
export interface ReceivedWebhook {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: Record<string, unknown>;
  answered: number;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  failFirst(path: string, times: number, matching?: (json: Record<string, unknown>) => boolean): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const failures = new Map<string, { left: number; matching: (json: Record<string, unknown>) => boolean }>();
  const server = http.createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => {
      const path = request.url ?? "/";
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(body);
      } catch {
        // recorded as is; the test asserts on it
      }
      const failure = failures.get(path);
      const fail = failure !== undefined && failure.left > 0 && failure.matching(json);
      if (fail) failure.left -= 1;
      const answered = fail ? 500 : 200;
      received.push({ path, headers: request.headers, body, json, answered });
      response.writeHead(answered, { "Content-Type": "text/plain" });
      response.end(answered === 200 ? "ok, thanks" : "receiver down for a moment");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    failFirst: (path, times, matching = () => true) => failures.set(path, { left: times, matching }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Verifies X-Goat-Signature as docs/webhooks.md tells receivers to. */
export function signatureIsValid(secret: string, received: ReceivedWebhook): boolean {
  const header = String(received.headers["x-goat-signature"] ?? "");
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!match) return false;
  const expected = createHmac("sha256", secret).update(`${match[1]}.${received.body}`).digest();
  return timingSafeEqual(expected, Buffer.from(match[2], "hex"));
}
