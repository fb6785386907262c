import "server-only";
import type { SubmissionEvent } from "@goat/contracts/submission-events";
import { subscribeSubmissionEvents } from "./submission-events";

/**
 * A server-sent-event response fed by events on Redis (submission events, announcements). `forward` decides, per
 * event, what (if anything) this one client may see: routes pass a filter that keeps other
 * teams' details out. Comments every 15 s keep proxies from closing an idle stream.
 */
export interface ForwardedEvent {
  event: string;
  data: Record<string, unknown>;
}

const KEEPALIVE_MS = 15_000;

export function submissionEventStream(signal: AbortSignal, forward: (event: SubmissionEvent) => ForwardedEvent | null): Response {
  return serverSentEventStream(signal, subscribeSubmissionEvents, forward);
}

export function serverSentEventStream<E>(
  signal: AbortSignal,
  subscribe: (listener: (event: E) => void) => () => void,
  forward: (event: E) => ForwardedEvent | null,
): Response {
  const encoder = new TextEncoder();
  let cleanup = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          cleanup();
        }
      };
      // `retry` tells EventSource to reconnect after 3 s if the server restarts.
      send(`retry: 3000\n: connected\n\n`);
      const unsubscribe = subscribe((event) => {
        const forwarded = forward(event);
        if (forwarded) send(`event: ${forwarded.event}\ndata: ${JSON.stringify(forwarded.data)}\n\n`);
      });
      const keepalive = setInterval(() => send(`: keepalive\n\n`), KEEPALIVE_MS);
      cleanup = () => {
        clearInterval(keepalive);
        unsubscribe();
        try {
          controller.close();
        } catch {
          // already closed by the client
        }
      };
      signal.addEventListener("abort", () => cleanup(), { once: true });
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(stream, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      Connection: "keep-alive",
      // nginx buffers responses unless told not to; a buffered event stream is a dead one.
      "X-Accel-Buffering": "no",
    },
  });
}
