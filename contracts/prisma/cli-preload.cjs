// Preloaded into the Prisma CLI (scripts/prisma): unrefs the long timers that the WebAssembly schema
// engine arms and never clears (10 s after `migrate deploy`, 60 s after `migrate dev`), so the CLI
// exits when its work is done instead of idling until they fire. A timer that still matters keeps
// firing while anything else (a query, a prompt) keeps the process alive.
const originalSetTimeout = globalThis.setTimeout;
globalThis.setTimeout = function setTimeoutUnrefLong(callback, ms, ...args) {
  const timer = originalSetTimeout(callback, ms, ...args);
  if (typeof ms === "number" && ms >= 5000 && timer && typeof timer.unref === "function") timer.unref();
  return timer;
};
