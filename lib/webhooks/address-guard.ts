import "server-only";
import dns from "node:dns";
import net from "node:net";

/**
 * Keeps webhooks from being a way into the organisers' own network (SSRF): a webhook URL must be
 * http(s), and the address it resolves to must not be loopback, private, link-local (cloud
 * metadata at 169.254.169.254), unique-local, CGNAT, multicast or unspecified, unless the
 * organisers allow it (WEBHOOK_ALLOW_PRIVATE). The URL is checked when it is saved and again at
 * every delivery, where the check runs in the socket's own DNS lookup (`guardedLookup`), so a name
 * that resolves to a public address when saved and to 127.0.0.1 later (DNS rebinding) is refused
 * at the moment of connecting. Redirects are not followed (lib/webhooks/deliver.ts).
 */
const blocked = new net.BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  blocked.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  blocked.addSubnet(network, prefix, "ipv6");
}

export class RefusedWebhookUrl extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RefusedWebhookUrl";
  }
}

/** Whether the address is one a webhook may not reach (IPv4-mapped IPv6 is judged as its IPv4). */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return blocked.check(mapped[1], "ipv4");
  const family = net.isIP(address);
  if (family === 4) return blocked.check(address, "ipv4");
  if (family === 6) return blocked.check(address, "ipv6");
  return true;
}

/** Parses and checks the URL's form: http(s), no credentials, a host. */
export function parseWebhookUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new RefusedWebhookUrl("That is not a URL.");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new RefusedWebhookUrl("A webhook URL must start with http:// or https://.");
  if (url.username || url.password) throw new RefusedWebhookUrl("A webhook URL may not carry a user name or password.");
  if (!url.hostname) throw new RefusedWebhookUrl("A webhook URL needs a host.");
  return url;
}

function refusal(host: string, address: string): RefusedWebhookUrl {
  return new RefusedWebhookUrl(`${host} resolves to ${address}, a loopback, private or link-local address; webhooks may not reach it unless the organisers allow private addresses.`);
}

/** Checks the URL and every address its host resolves to; returns the parsed URL. */
export async function checkWebhookUrl(raw: string, allowPrivate: boolean): Promise<URL> {
  const url = parseWebhookUrl(raw);
  if (allowPrivate) return url;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const addresses = net.isIP(host) ? [host] : await dns.promises.lookup(host, { all: true, verbatim: true }).then(
    (found) => found.map((each) => each.address),
    () => {
      throw new RefusedWebhookUrl(`${host} does not resolve.`);
    },
  );
  const bad = addresses.find(isPrivateAddress);
  if (bad) throw refusal(host, bad);
  return url;
}

/** A `lookup` for http.request that refuses private addresses at connect time (see above). */
export function guardedLookup(allowPrivate: boolean): net.LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, "", 0);
      const list = addresses as unknown as dns.LookupAddress[];
      const bad = allowPrivate ? undefined : list.find((each) => isPrivateAddress(each.address));
      if (bad) return callback(refusal(hostname, bad.address) as unknown as NodeJS.ErrnoException, "", 0);
      if ((options as dns.LookupOptions).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };
}
