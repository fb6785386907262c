// GET /api/health - liveness and readiness of the web app: `{ "status": "ok" }` when Postgres and Redis answer, else 503 `{ "status": "unavailable" }`
import { jsonAnswer } from "@/lib/http/api-answer";
import { db } from "@/lib/db";
import { pingRedis } from "@/lib/queue/evaluation-queue";
import { healthSchema } from "@/lib/schemas/platform";

export const dynamic = "force-dynamic";

/**
 * Anyone may call this (load balancers, the container's healthcheck), so the answer says only
 * whether the app can serve: a driver's error text names hosts, users and ports. What failed, and
 * why, goes to the log.
 */
export async function GET() {
  const checks = await Promise.all([
    db.$queryRaw`SELECT 1`.then(() => true, (error: unknown) => logFailure("database", error)),
    pingRedis().then(() => true, (error: unknown) => logFailure("redis", error)),
  ]);
  const healthy = checks.every(Boolean);
  return jsonAnswer(healthSchema, { status: healthy ? "ok" : "unavailable" }, { status: healthy ? 200 : 503, headers: { "cache-control": "no-store" } });
}

function logFailure(dependency: "database" | "redis", error: unknown): false {
  console.error(`[health] ${dependency} unavailable: ${error instanceof Error ? error.message : String(error)}`);
  return false;
}
