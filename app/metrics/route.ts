// GET /metrics - Prometheus metrics of the web app (process, queue depth, submissions by status, workers, reconciler), behind Bearer METRICS_TOKEN
import { metricsAuthorized, metricsToken, prometheusMetrics } from "@/lib/admin/prometheus";
import { log } from "@/lib/log";

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
    const { contentType, text } = await prometheusMetrics();
    return new Response(text, { headers: { "content-type": contentType, "cache-control": "no-store" } });
  } catch (error) {
    log.error({ err: error }, "metrics could not be read");
    return Response.json({ error: { code: "INTERNAL", message: "The metrics could not be read." } }, { status: 500 });
  }
}
