import "server-only";
import { randomUUID } from "node:crypto";
import type IORedis from "ioredis";
import { withTimeout } from "./evaluation-queue";

/**
 * Runs a periodic job (the reconciler, the lost-worker sweep) in one web replica at a time: a Redis
 * lock (SET NX PX) held for the run, released only by its holder (compare-and-delete). A replica
 * that finds it taken skips this run; the holder's run covers it. A holder that dies leaves the lock
 * to expire after `ttlMs`. https://redis.io/docs/latest/develop/use/patterns/distributed-locks/
 */
const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

export type ExclusiveOutcome<T> = { ran: true; value: T } | { ran: false };

export async function runExclusively<T>(redis: IORedis, key: string, ttlMs: number, run: () => Promise<T>): Promise<ExclusiveOutcome<T>> {
  const token = randomUUID();
  const taken = await withTimeout(redis.set(key, token, "PX", ttlMs, "NX"), `taking the lock ${key}`);
  if (taken !== "OK") return { ran: false };
  try {
    return { ran: true, value: await run() };
  } finally {
    await withTimeout(redis.eval(RELEASE, 1, key, token), `releasing the lock ${key}`).catch(() => {});
  }
}
