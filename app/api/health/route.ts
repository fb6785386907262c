// GET /api/health - liveness and readiness of the web app: Postgres and Redis reachable
import { jsonAnswer } from "@/lib/api-answer";
import { db } from "@/lib/db";
import { pingRedis } from "@/lib/queue/evaluation-queue";
import { healthSchema } from "@/lib/schemas/platform";

export const dynamic = "force-dynamic";

export async function GET() {
  const [database, redis] = await Promise.all([
    db.$queryRaw`SELECT 1`.then(() => "ok", (error: Error) => error.message),
    pingRedis().then(() => "ok", (error: Error) => error.message),
  ]);
  const healthy = database === "ok" && redis === "ok";
  return jsonAnswer(healthSchema, { status: healthy ? "ok" : "degraded", database, redis }, { status: healthy ? 200 : 503 });
}
