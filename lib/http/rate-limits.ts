import "server-only";
import { createHash } from "node:crypto";
import IORedis from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { env, type WebEnv } from "../env";
import { ApiError } from "../errors";
import { LeasedLimit } from "./limit-leases";

/**
 * Rate limits, counted in Redis with rate-limiter-flexible so every web process shares them. Two
 * kinds: a count per window (sign-in failures, sign-ups, bad tokens, polls), and slots held while
 * something is in flight (uploads, event streams), taken on start and given back on the end. The
 * limits are settings (lib/env.ts; README "Security"). When Redis does not answer, each process
 * counts in memory instead (the library's insurance limiter) rather than refusing everyone.
 */
export type LimitName =
  | "signInFailuresPerAccount"
  | "signInFailuresPerIp"
  | "signUpsPerIp"
  | "badTokensPerIp"
  | "pollsPerIp"
  | "uploadsInFlightPerTeam"
  | "uploadsInFlightPerIp"
  | "eventStreamsPerUser"
  | "eventStreamsPerIp";

/** A held slot outlives no upload or stream (streams end themselves sooner); past this a lost slot frees itself. */
export const SLOT_TTL_S = 15 * 60;
/** What a refused in-flight request is told to wait: slots free when another upload or stream ends, not at a window's end. */
const SLOT_RETRY_AFTER_S = 5;

interface LimitSpec {
  points: number;
  durationS: number;
  slot: boolean;
  /** counted in Redis a lease of points at a time (lib/http/limit-leases.ts): the polls, the hottest path */
  leased?: boolean;
  /** the sentence a refused caller reads, before "Try again in N s." */
  refusal: string;
}

function spec(name: LimitName, e: WebEnv): LimitSpec {
  switch (name) {
    case "signInFailuresPerAccount":
      return { points: e.RATE_LIMIT_SIGNIN_FAILURES_PER_ACCOUNT, durationS: e.RATE_LIMIT_SIGNIN_WINDOW_S, slot: false, refusal: "Too many failed sign-ins for this account." };
    case "signInFailuresPerIp":
      return { points: e.RATE_LIMIT_SIGNIN_FAILURES_PER_IP, durationS: e.RATE_LIMIT_SIGNIN_WINDOW_S, slot: false, refusal: "Too many failed sign-ins from your address." };
    case "signUpsPerIp":
      return { points: e.RATE_LIMIT_SIGNUPS_PER_IP, durationS: e.RATE_LIMIT_SIGNUP_WINDOW_S, slot: false, refusal: "Too many sign-ups from your address." };
    case "badTokensPerIp":
      return { points: e.RATE_LIMIT_BAD_TOKENS_PER_IP, durationS: e.RATE_LIMIT_BAD_TOKEN_WINDOW_S, slot: false, refusal: "Too many requests with an invalid API token from your address." };
    case "pollsPerIp":
      return { points: e.RATE_LIMIT_POLLS_PER_IP, durationS: e.RATE_LIMIT_POLL_WINDOW_S, slot: false, leased: true, refusal: "Too many requests from your address." };
    case "uploadsInFlightPerTeam":
      return { points: e.RATE_LIMIT_UPLOADS_IN_FLIGHT_PER_TEAM, durationS: SLOT_TTL_S, slot: true, refusal: "Your team already has the most uploads in progress." };
    case "uploadsInFlightPerIp":
      return { points: e.RATE_LIMIT_UPLOADS_IN_FLIGHT_PER_IP, durationS: SLOT_TTL_S, slot: true, refusal: "Your address already has the most uploads in progress." };
    case "eventStreamsPerUser":
      return { points: e.RATE_LIMIT_EVENT_STREAMS_PER_USER, durationS: SLOT_TTL_S, slot: true, refusal: "You have the most live-update streams open; close a tab." };
    case "eventStreamsPerIp":
      return { points: e.RATE_LIMIT_EVENT_STREAMS_PER_IP, durationS: SLOT_TTL_S, slot: true, refusal: "Your address has the most live-update streams open." };
  }
}

const globalForLimits = globalThis as unknown as { goatRateLimitRedis?: IORedis; goatRateLimiters?: Map<string, RateLimiterRedis>; goatLeasedLimits?: Map<string, LeasedLimit> };

function redis(): IORedis {
  if (!globalForLimits.goatRateLimitRedis) {
    // Unlike the queue's connection, a command fails after a retry, so the insurance limiter takes over.
    const client = new IORedis(env().REDIS_URL, { maxRetriesPerRequest: 1 });
    client.on("error", (error) => console.warn(`[rate-limits] redis: ${error.message}`));
    globalForLimits.goatRateLimitRedis = client;
  }
  return globalForLimits.goatRateLimitRedis;
}

/** One limiter per name and settings (a test that changes the settings gets a new one). */
function limiter(name: LimitName): { limiter: RateLimiterRedis; spec: LimitSpec; id: string } {
  const e = env();
  const s = spec(name, e);
  const id = `${name}:${s.points}:${s.durationS}:${e.QUEUE_PREFIX}`;
  globalForLimits.goatRateLimiters ??= new Map();
  let found = globalForLimits.goatRateLimiters.get(id);
  if (!found) {
    found = new RateLimiterRedis({
      storeClient: redis(),
      keyPrefix: `${e.QUEUE_PREFIX}:rate:${name}`,
      points: s.points,
      duration: s.durationS,
      insuranceLimiter: new RateLimiterMemory({ points: s.points, duration: s.durationS }),
    });
    globalForLimits.goatRateLimiters.set(id, found);
  }
  return { limiter: found, spec: s, id };
}

/** The process's leases of a leased limit (one set per name and settings, as the limiters). */
function leased(l: RateLimiterRedis, s: LimitSpec, id: string): LeasedLimit {
  globalForLimits.goatLeasedLimits ??= new Map();
  let found = globalForLimits.goatLeasedLimits.get(id);
  if (!found) globalForLimits.goatLeasedLimits.set(id, (found = new LeasedLimit(l, s.points)));
  return found;
}

/** Keys may hold emails: store a digest, never the address. */
export function limitKey(value: string): string {
  return createHash("sha256").update(value).digest("base64url").slice(0, 22);
}

function refused(s: LimitSpec, retryAfterS: number): ApiError {
  const seconds = Math.max(1, Math.ceil(retryAfterS));
  return new ApiError(429, "RATE_LIMITED", `${s.refusal} Try again in ${seconds} s.`, { retryAfterSeconds: seconds }, { "Retry-After": String(seconds) });
}

/** Counts one event against the limit; throws the 429 once the window's count is over it. */
export async function consumeLimit(name: LimitName, key: string): Promise<void> {
  const { limiter: l, spec: s, id } = limiter(name);
  try {
    if (s.leased) await leased(l, s, id).consume(key);
    else await l.consume(key);
  } catch (error) {
    if (error instanceof RateLimiterRes) throw refused(s, error.msBeforeNext / 1000);
    throw error;
  }
}

/** Counts one event without refusing this one (failures are counted after the fact). */
export async function recordLimitEvent(name: LimitName, key: string): Promise<void> {
  const { limiter: l } = limiter(name);
  await l.penalty(key).catch((error: unknown) => console.warn(`[rate-limits] ${name}: ${(error as Error).message}`));
}

/** Throws the 429 when the limit is already used up, without counting. */
export async function assertUnderLimit(name: LimitName, key: string): Promise<void> {
  const { limiter: l, spec: s } = limiter(name);
  const state = await l.get(key).catch(() => null);
  if (state && state.consumedPoints >= s.points) throw refused(s, state.msBeforeNext / 1000);
}

export async function clearLimit(name: LimitName, key: string): Promise<void> {
  await limiter(name).limiter.delete(key).catch(() => undefined);
}

/**
 * Takes a slot of each named limit (all or none) for something in flight; the returned function
 * gives them back (call it once, when the upload or stream ends).
 */
export async function holdSlots(slots: [LimitName, string][]): Promise<() => Promise<void>> {
  const held: [RateLimiterRedis, string][] = [];
  const release = async () => {
    const taken = held.splice(0);
    await Promise.all(taken.map(([l, key]) => l.reward(key).catch(() => undefined)));
  };
  for (const [name, key] of slots) {
    const { limiter: l, spec: s } = limiter(name);
    try {
      await l.consume(key);
      held.push([l, key]);
    } catch (error) {
      // consume() counted this attempt even though it was refused: give that back too.
      if (error instanceof RateLimiterRes) await l.reward(key).catch(() => undefined);
      await release();
      if (error instanceof RateLimiterRes) throw refused(s, SLOT_RETRY_AFTER_S);
      throw error;
    }
  }
  return release;
}
