// GET /metrics - Prometheus metrics (queue depth, evaluations by outcome, evaluation time, GPU memory per worker), behind Bearer METRICS_TOKEN
import { metricsAuthorized, metricsToken, prometheusMetrics } from "@/lib/admin/prometheus";

export const dynamic = "force-dynamic";

export async function GET(request: Request): Promise<Response> {
  const token = metricsToken();
  if (!token) return Response.json({ error: { code: "NOT_FOUND", message: "/metrics is off: set METRICS_TOKEN to turn it on." } }, { status: 404 });
  if (!metricsAuthorized(request.headers.get("authorization"), token)) {
    return Response.json(
      { error: { code: "UNAUTHORIZED", message: "Send `Authorization: Bearer METRICS_TOKEN`." } },
      { status: 401, headers: { "WWW-Authenticate": 'Bearer realm="metrics"' } },
    );
  }
  try {
    return new Response(await prometheusMetrics(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" } });
  } catch (error) {
    console.error("[metrics]", error);
    return Response.json({ error: { code: "INTERNAL", message: "The metrics could not be read." } }, { status: 500 });
  }
}
