import "server-only";
import { RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";

/**
 * A per-window limit counted in Redis a few points at a time: a process takes a lease of up to
 * `leaseSize` points from the shared count in one round trip and spends it locally, so a crowd of
 * polls costs Redis one command per lease instead of one per request. The shared count never lets
 * more than the limit through in a window, whatever the number of processes: a lease is counted in
 * Redis before any of its points is spent, and a lease is cut to what the window had left. A lease
 * ends with its window (the window's end comes with the lease); unspent points then lapse. The
 * price: a process may hold up to `leaseSize - 1` points another process of the same address could
 * have used, so with P processes an address can be refused up to `P * (leaseSize - 1)` requests
 * early (a lease is at most 1/20 of the limit). Once the shared count refuses an address, the
 * process refuses it locally until the window ends, so a flood of refused requests costs Redis nothing.
 */
export const LEASE_FRACTION = 20;

/** Points per lease: 1 (every request counted in Redis) for limits under 40. */
export function leaseSize(points: number): number {
  return Math.max(1, Math.floor(points / LEASE_FRACTION));
}

interface Lease {
  left: number;
  endsAt: number;
  /** the shared count was full when this lease was asked for: refuse locally until the window ends */
  refused?: RateLimiterRes;
}

/** Beyond this many addresses, lapsed leases are swept before a new one is added. */
const SWEEP_OVER = 10_000;

export class LeasedLimit {
  private readonly leases = new Map<string, Lease>();
  private readonly taking = new Map<string, Promise<void>>();

  constructor(
    private readonly shared: Pick<RateLimiterAbstract, "consume">,
    private readonly points: number,
    private readonly size = leaseSize(points),
  ) {}

  /** Spends one point of `key`; throws the limiter's RateLimiterRes when the window has none left. */
  async consume(key: string): Promise<void> {
    for (;;) {
      const lease = this.leases.get(key);
      if (lease && Date.now() < lease.endsAt) {
        if (lease.refused) throw new RateLimiterRes(0, lease.endsAt - Date.now(), lease.refused.consumedPoints, false);
        if (lease.left > 0) {
          lease.left--;
          return;
        }
      }
      // One lease request per key at a time; the others wait for it and spend from it.
      const pending = this.taking.get(key);
      if (pending) {
        await pending;
        continue;
      }
      const taking = this.take(key).finally(() => this.taking.delete(key));
      this.taking.set(key, taking);
      await taking;
    }
  }

  private async take(key: string): Promise<void> {
    let granted: number;
    let msLeft: number;
    try {
      const result = await this.shared.consume(key, this.size);
      granted = this.size;
      msLeft = result.msBeforeNext;
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      // The window had fewer points left than a lease: take those (the excess counted in Redis
      // only keeps the window full, which it is).
      granted = Math.max(0, this.points - (error.consumedPoints - this.size));
      msLeft = error.msBeforeNext;
      if (granted === 0) {
        this.leases.set(key, { left: 0, endsAt: Date.now() + msLeft, refused: error });
        throw error;
      }
    }
    if (this.leases.size > SWEEP_OVER) this.sweep();
    this.leases.set(key, { left: granted, endsAt: Date.now() + msLeft });
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, lease] of this.leases) if ((lease.left === 0 && !lease.refused) || lease.endsAt <= now) this.leases.delete(key);
  }
}
