/**
 * Signals on Redis between the workers and the web app, apart from submission events. A worker
 * publishes its id on `workerOnlineChannel` when it starts and when its Redis connection comes back:
 * the web app then reconciles the queue at once (after a Redis loss, QUEUED submissions need their
 * jobs again) instead of waiting for its next periodic pass.
 */
export function workerOnlineChannel(queuePrefix: string): string {
  return `${queuePrefix}:worker-online`;
}

/**
 * An organiser cancelled a submission: its id is published here, and the worker evaluating it kills
 * its sandbox at once (the job's lock forbids removing a running job from BullMQ).
 */
export function cancelChannel(queuePrefix: string): string {
  return `${queuePrefix}:cancel`;
}
