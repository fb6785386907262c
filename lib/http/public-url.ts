import "server-only";
import { headers } from "next/headers";
import { env } from "../env";

/**
 * The address participants reach this site at, for the copy-paste curl commands: PUBLIC_URL when
 * the organisers set it (behind a proxy that rewrites Host), else the host the browser asked for.
 */
export async function publicBaseUrl(): Promise<string> {
  const configured = env().PUBLIC_URL;
  if (configured) return configured.replace(/\/+$/, "");
  const requestHeaders = await headers();
  const host = requestHeaders.get("x-forwarded-host") ?? requestHeaders.get("host") ?? `localhost:${process.env.PORT ?? "8000"}`;
  const proto = requestHeaders.get("x-forwarded-proto") ?? "http";
  return `${proto.split(",")[0].trim()}://${host.split(",")[0].trim()}`;
}
