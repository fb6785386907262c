/**
 * Whether an error means that a dependency (Postgres, Redis, model storage) is unreachable or
 * restarting, rather than that the request or the data is wrong. The worker waits such a fault
 * out instead of spending an evaluation attempt on it; the web app answers 503 with Retry-After.
 *
 * The error can arrive wrapped: Prisma's driver-adapter errors carry the pg error as `cause`,
 * Node's connect errors carry one error per address in `errors` (AggregateError).
 */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  // Prisma: cannot reach the server, timed out, the server closed the connection, pool timeout,
  // and an interactive transaction whose connection went away (or that could not start in time).
  "P1001",
  "P1002",
  "P1008",
  "P1017",
  "P2024",
  "P2028",
]);

// SQLSTATE class 08 (connection exception), 57P01-57P03 (shut down by the administrator, crash
// shutdown, cannot connect now: starting up), 53300 (too many connections).
// https://www.postgresql.org/docs/15/errcodes-appendix.html
const POSTGRES_STATE = /^(08[0-9A-Z]{3}|57P0[1-3]|53300)$/;

// Driver-adapter error kinds (@prisma/driver-adapter-utils) that mean the database is not there.
const ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);

const MESSAGES = [
  /connection terminated/i,
  /connection timeout/i,
  /timeout exceeded when trying to connect/i,
  /connection is closed/i,
  /max retries per request/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
  /terminating connection due to administrator command/i,
  /can't reach database server/i,
  /server has closed the connection/i,
  /client has encountered a connection error/i,
  /\bECONNREFUSED\b|\bECONNRESET\b/,
];

export function isDependencyOutage(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== "object" || depth > 6) return false;
  const e = error as { code?: unknown; kind?: unknown; originalCode?: unknown; message?: unknown; cause?: unknown; errors?: unknown; meta?: unknown };
  if (typeof e.code === "string" && (NETWORK_CODES.has(e.code) || POSTGRES_STATE.test(e.code))) return true;
  if (typeof e.originalCode === "string" && POSTGRES_STATE.test(e.originalCode)) return true;
  if (typeof e.kind === "string" && ADAPTER_KINDS.has(e.kind)) return true;
  if (typeof e.message === "string" && MESSAGES.some((pattern) => pattern.test(e.message as string))) return true;
  if (Array.isArray(e.errors) && e.errors.some((each) => isDependencyOutage(each, depth + 1))) return true;
  const meta = e.meta as { driverAdapterError?: unknown } | undefined;
  return isDependencyOutage(e.cause, depth + 1) || isDependencyOutage(meta?.driverAdapterError, depth + 1);
}
