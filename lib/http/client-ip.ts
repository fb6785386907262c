import "server-only";
import { env } from "../env";

/**
 * The address per-IP rate limits key on. Next's server sets X-Forwarded-For to the socket's
 * address only when the request carries none (next/dist/server/base-server.js: `??=`), and a route
 * handler sees nothing else of the connection. So:
 *
 * - TRUST_PROXY=N (N reverse proxies in front, each appending the address it saw): the Nth entry
 *   from the right is the address the outermost of our proxies saw; entries left of it are what
 *   the client wrote, and are ignored.
 * - TRUST_PROXY=0 (reached directly): the header is the socket's address unless the client sent
 *   one of its own, which it then chooses. Per-IP limits hold for an honest crowd but a determined
 *   client can spread itself over keys; run behind a proxy that sets the header in production.
 */
export function clientIp(request: { headers: Headers }): string {
  return clientIpOf(request.headers.get("x-forwarded-for"));
}

/** The same address, from the X-Forwarded-For header a route would see. */
export function clientIpOf(forwardedFor: string | null): string {
  const forwarded = (forwardedFor ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (forwarded.length === 0) return "unknown";
  const hops = env().TRUST_PROXY;
  const entry = hops === 0 ? forwarded[forwarded.length - 1] : forwarded[Math.max(0, forwarded.length - hops)];
  return normaliseAddress(entry);
}

/** `::ffff:10.0.0.1` and `10.0.0.1` are one client; an IPv6 client is keyed by its /64, which one host usually owns whole. */
function normaliseAddress(address: string): string {
  const v4 = /^(?:::ffff:)?(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?$/i.exec(address);
  if (v4) return v4[1];
  const v6 = address.replace(/^\[|\](?::\d+)?$/g, "").toLowerCase();
  if (!v6.includes(":")) return v6.slice(0, 64);
  const groups = expandIpv6(v6);
  return groups ? `${groups.slice(0, 4).join(":")}::/64` : v6.slice(0, 64);
}

function expandIpv6(address: string): string[] | null {
  const [head, tail] = address.split("::");
  if (address.split("::").length > 2) return null;
  const left = head ? head.split(":") : [];
  const right = tail !== undefined && tail ? tail.split(":") : [];
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return null;
  const groups = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill("0"), ...right];
  return groups.every((group) => /^[0-9a-f]{1,4}$/.test(group)) ? groups.map((group) => group.replace(/^0+(?=.)/, "")) : null;
}
