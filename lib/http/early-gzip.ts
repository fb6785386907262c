import { gzipSync } from "node:zlib";
import type { EarlyRequest } from "./early-answers";
import { earlyHeader } from "./early-answers";

/**
 * gzip for the web server's early answers (lib/http/early-answers.ts). Next gzips each answer again
 * (~2-3 ms of CPU for a 130 KB page); an early answer whose bytes are shared by a crowd (a board
 * version's page of JSON, a kept leaderboard page) is compressed once and the result kept with the
 * bytes (a WeakMap: it goes when they go).
 */

/** Below this, gzip saves too little to be worth a header (the compression package's threshold; Next's own answers, sent chunked, are compressed at any size). */
const GZIP_FROM_BYTES = 1024;
const gzipped = new WeakMap<Uint8Array, Buffer>();

/** Whether an Accept-Encoding header takes gzip (named or `*`, with a weight above 0). */
export function acceptsGzip(acceptEncoding: string | null): boolean {
  if (!acceptEncoding) return false;
  return acceptEncoding.split(",").some((entry) => {
    const [coding, ...params] = entry.trim().toLowerCase().split(";");
    if (coding.trim() !== "gzip" && coding.trim() !== "*") return false;
    const weight = params.map((param) => param.trim()).find((param) => param.startsWith("q="));
    return weight === undefined || Number(weight.slice(2)) > 0;
  });
}

/**
 * `body` gzipped for this request (compressed once per body, then kept with it), or null when the
 * request does not take gzip or the body is too small to gain from it.
 */
export function gzippedFor(request: EarlyRequest, body: Uint8Array): Buffer | null {
  if (body.byteLength < GZIP_FROM_BYTES || !acceptsGzip(earlyHeader(request, "accept-encoding"))) return null;
  let compressed = gzipped.get(body);
  if (!compressed) gzipped.set(body, (compressed = gzipSync(body)));
  return compressed;
}
