// Next.js start-up hook: the web app (the producer of jobs) runs the queue reconciler.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { env } = await import("./lib/env");
  const { startReconciler } = await import("./lib/queue/reconciler");
  startReconciler(env().RECONCILE_INTERVAL_MS);
}
