/**
 * Signals on Redis between the workers and the web app, apart from submission events. A worker
 * publishes its id on `workerOnlineChannel` when it starts and when its Redis connection comes back:
 * the web app then reconciles the queue at once (after a Redis loss, QUEUED submissions need their
 * jobs again) instead of waiting for its next periodic pass.
 */
export function workerOnlineChannel(queuePrefix: string): string {
  return `${queuePrefix}:worker-online`;
}
