// The web app's HTTP server: Next's standalone server, with the routes the app registers as early
// answers (lib/http/early-answers.ts: the anonymous leaderboard poll) answered before Next.
//
// Built by scripts/build-web.sh into .next/standalone/web-server.mjs, next to Next's own server.js,
// which it replaces: `node web-server.mjs` in that folder (the Docker image, `npm start`, the demo,
// the e2e tests and bench:load run it). It starts Next as a custom server
// (https://nextjs.org/docs/app/guides/custom-server) with the configuration Next's build wrote, and
// keeps what Next's server.js does around it: NODE_ENV, PORT, HOSTNAME, KEEP_ALIVE_TIMEOUT, the
// origin Next's proxy renders kept pages from, and a graceful stop on SIGTERM and SIGINT (which,
// unlike Next's, does not wait for open event streams past STOP_GRACE_MS).
import { readFileSync } from "node:fs";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { earlyAnswerRoute, type EarlyRequest } from "./lib/http/early-answers";

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;
interface NextApp {
  prepare(): Promise<void>;
  getRequestHandler(): RequestHandler;
  close(): Promise<void>;
}
type CreateNextApp = (options: { dev: boolean; dir: string; conf: unknown; hostname: string; port: number; httpServer: http.Server }) => NextApp;

const dir = path.dirname(fileURLToPath(import.meta.url));
(process.env as Record<string, string>).NODE_ENV = "production";
process.chdir(dir);
const { config } = JSON.parse(readFileSync(path.join(dir, ".next", "required-server-files.json"), "utf8")) as { config: unknown };
process.env.__NEXT_PRIVATE_STANDALONE_CONFIG = JSON.stringify(config);

const port = Number.parseInt(process.env.PORT ?? "", 10) || 3000;
const hostname = process.env.HOSTNAME || "0.0.0.0";
const keepAliveTimeout = Number.parseInt(process.env.KEEP_ALIVE_TIMEOUT ?? "", 10);
/**
 * On SIGTERM, how long open requests may finish before their connections are closed. Event streams
 * never finish by themselves (they end after 10 minutes); a browser reconnects to another replica.
 * Shorter than Docker's and Kubernetes' 10 s and 30 s between SIGTERM and SIGKILL.
 */
const STOP_GRACE_MS = 5_000;

/** An early answer when a registered route gives one; false when Next is to answer. */
async function answeredEarly(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const request: EarlyRequest = { method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers, remoteAddress: req.socket.remoteAddress };
  const route = earlyAnswerRoute(request);
  if (!route) return false;
  const answer = await route.answer(request).catch((error: unknown) => {
    console.error(`[web-server] early answer "${route.name}" failed; Next answers instead:`, error);
    return null;
  });
  if (!answer) return false;
  res.writeHead(answer.status, answer.body ? { ...answer.headers, "Content-Length": String(answer.body.byteLength) } : answer.headers);
  res.end(answer.body ?? undefined);
  return true;
}

async function main(): Promise<void> {
  const next = createRequire(import.meta.url)("next") as CreateNextApp;
  let handle: RequestHandler | null = null;
  const server = http.createServer(async (req, res) => {
    try {
      if (await answeredEarly(req, res)) return;
      await handle!(req, res);
    } catch (error) {
      console.error(`[web-server] failed to handle request for ${req.url}:`, error);
      if (!res.headersSent) res.statusCode = 500;
      res.end("Internal Server Error");
    }
  });
  if (Number.isFinite(keepAliveTimeout) && keepAliveTimeout >= 0) server.keepAliveTimeout = keepAliveTimeout;
  const app = next({ dev: false, dir, conf: config, hostname, port, httpServer: server });
  // Next runs instrumentation.ts here, which registers the early answers and refuses bad settings.
  await app.prepare();
  handle = app.getRequestHandler();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, resolve);
  });
  const shown = hostname === "0.0.0.0" || hostname === "::" ? "localhost" : hostname;
  // Next's proxy (proxy.ts) renders the kept leaderboard pages from this origin, as under Next's own server.
  process.env.__NEXT_PRIVATE_ORIGIN = `http://${shown.includes(":") ? `[${shown}]` : shown}:${port}`;
  console.log(`[web-server] ready on ${process.env.__NEXT_PRIVATE_ORIGIN}`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals, code: number) => {
    if (stopping) return;
    stopping = true;
    console.log(`[web-server] ${signal}: finishing open requests`);
    setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS).unref();
    server.close(() => {
      app.close().then(
        () => process.exit(code),
        () => process.exit(code),
      );
    });
  };
  process.on("SIGTERM", () => stop("SIGTERM", 143));
  process.on("SIGINT", () => stop("SIGINT", 130));
}

main().catch((error: unknown) => {
  console.error("[web-server] could not start:", error);
  process.exit(1);
});
