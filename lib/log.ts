import "server-only";
import { createLogger, type Logger } from "@goat/contracts/logger";

/** The web app's logger (pino, JSON lines; LOG_FORMAT=pretty for people): one per process. */
const globalForLog = globalThis as unknown as { goatLog?: Logger };

export const log: Logger = globalForLog.goatLog ?? createLogger("web");
globalForLog.goatLog = log;
