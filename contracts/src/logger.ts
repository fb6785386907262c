import pino from "pino";
import pretty from "pino-pretty";

/**
 * The one logger factory of the web app and the worker: pino, one JSON object per line on stdout
 * (what production and compose collect), or readable lines when LOG_FORMAT=pretty (`npm run demo`).
 * LOG_LEVEL picks the level (info by default). Fields that matter to operators are fields, not
 * text: submissionId, workerId, taskSlug, attempt, durationMs.
 */
export type Logger = pino.Logger;

export function createLogger(service: "web" | "worker", bindings: Record<string, unknown> = {}): Logger {
  const options: pino.LoggerOptions = {
    level: process.env.LOG_LEVEL ?? "info",
    base: { service, ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Error objects under `err` keep their type, message and stack as fields.
    serializers: { err: pino.stdSerializers.err },
  };
  if (process.env.LOG_FORMAT === "pretty") {
    // In-process and synchronous: no worker thread, and nothing lost when the process exits.
    return pino(options, pretty({ sync: true, colorize: false, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,service" }));
  }
  return pino(options);
}
