// Next.js start-up hook: the web app (the producer of jobs) runs the queue reconciler, the lost-worker sweep
// and the webhook deliveries.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { env } = await import("./lib/env");
  const { startReconciler } = await import("./lib/queue/reconciler");
  startReconciler(env().RECONCILE_INTERVAL_MS);
  // Hands a lost worker's running submission back to the queue (lib/admin/worker-health.ts).
  const { startWorkerHealthSweep } = await import("./lib/admin/worker-health");
  startWorkerHealthSweep(env().WORKER_SWEEP_INTERVAL_MS);
  // Delivers webhooks here, not in the evaluation workers, whose network reaches only Postgres and Redis (lib/webhooks/consumer.ts).
  const { startWebhookConsumer } = await import("./lib/webhooks/consumer");
  startWebhookConsumer();
}
