// Next.js start-up hook: the web app (the producer of jobs) runs the queue reconciler, the lost-worker sweep
// and the webhook deliveries. With several web replicas each starts them; a Redis lock lets one replica at a
// time run each reconciler and sweep pass.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { env, describeEnvProblems } = await import("./lib/env");
  // A bad setting (in production: a missing, short or placeholder NEXTAUTH_SECRET or METRICS_TOKEN)
  // stops the server here, before it answers anyone.
  try {
    env();
  } catch (error) {
    console.error(`[startup] refusing to start: ${describeEnvProblems(error)}`);
    process.exit(1);
  }
  // Leaderboard polls, the kept page and the page's own part, answered by the web server before Next (web-server.ts, lib/http/early-answers.ts).
  const { registerEarlyAnswer } = await import("./lib/http/early-answers");
  const { leaderboardPoll } = await import("./lib/leaderboard/poll-answer");
  const { leaderboardPageEarly } = await import("./lib/leaderboard/page-early-answer");
  const { leaderboardViewerEarly } = await import("./lib/leaderboard/viewer");
  registerEarlyAnswer(leaderboardPoll);
  registerEarlyAnswer(leaderboardPageEarly);
  registerEarlyAnswer(leaderboardViewerEarly);
  const { startReconciler } = await import("./lib/queue/reconciler");
  startReconciler(env().RECONCILE_INTERVAL_MS);
  // Hands a lost worker's running submission back to the queue (lib/admin/worker-health.ts).
  const { startWorkerHealthSweep } = await import("./lib/admin/worker-health");
  startWorkerHealthSweep(env().WORKER_SWEEP_INTERVAL_MS);
  // Takes each task's public ranks at the start of the UTC day, for the boards' move arrows (lib/leaderboard/day-start.ts).
  const { startDayStartSweep } = await import("./lib/leaderboard/day-start");
  startDayStartSweep(env().DAY_START_INTERVAL_MS);
  // Delivers webhooks here, not in the evaluation workers, whose network reaches only Postgres and Redis (lib/webhooks/consumer.ts).
  const { startWebhookConsumer } = await import("./lib/webhooks/consumer");
  startWebhookConsumer();
}
