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

export interface EventStreamOptions {
  /**
   * Asked every `recheckMs` while the stream is open: false (token revoked, session ended, account
   * disabled, team left) closes the stream, and no event is forwarded while the answer is pending.
   */
  stillAllowed?: () => Promise<boolean>;
  recheckMs?: number;
  /** Called once when the stream ends, however it ends (gives back the rate limiter's slot). */
  onClose?: () => unknown;
}

/** The headers of every server-sent event stream we answer. */
export const EVENT_STREAM_HEADERS = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-cache, no-transform",
  Connection: "keep-alive",
  // nginx buffers responses unless told not to; a buffered event stream is a dead one.
  "X-Accel-Buffering": "no",
};

const KEEPALIVE_MS = 15_000;
/** A stream ends itself after this long; EventSource reconnects (after `retry`) and is checked afresh. */
export const MAX_STREAM_MS = 10 * 60_000;

export function submissionEventStream(signal: AbortSignal, forward: (event: SubmissionEvent) => ForwardedEvent | null, options: EventStreamOptions = {}): Response {
  return serverSentEventStream(signal, subscribeSubmissionEvents, forward, options);
}

export function serverSentEventStream<E>(
  signal: AbortSignal,
  subscribe: (listener: (event: E) => void) => () => void,
  forward: (event: E) => ForwardedEvent | null,
  options: EventStreamOptions = {},
): Response {
  const encoder = new TextEncoder();
  let closed = false;
  let cleanup = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          cleanup();
        }
      };
      // `retry` tells EventSource to reconnect after 3 s if the server restarts.
      send(`retry: 3000\n: connected\n\n`);
      // Events wait for a re-check in progress: one that started after a revoke must not slip out.
      let checking: Promise<unknown> = Promise.resolve();
      const unsubscribe = subscribe((event) => {
        const forwarded = forward(event);
        if (!forwarded) return;
        void checking.then(() => send(`event: ${forwarded.event}\ndata: ${JSON.stringify(forwarded.data)}\n\n`));
      });
      const keepalive = setInterval(() => send(`: keepalive\n\n`), KEEPALIVE_MS);
      const recheck = options.stillAllowed
        ? setInterval(() => {
            checking = options.stillAllowed!().then(
              (allowed) => allowed || cleanup(),
              () => cleanup(),
            );
          }, options.recheckMs ?? 5_000)
        : undefined;
      const lifetime = setTimeout(() => cleanup(), MAX_STREAM_MS);
      cleanup = () => {
        if (closed) return;
        closed = true;
        clearInterval(keepalive);
        clearInterval(recheck);
        clearTimeout(lifetime);
        unsubscribe();
        try {
          controller.close();
        } catch {
          // already closed by the client
        }
        void Promise.resolve(options.onClose?.()).catch(() => undefined);
      };
      signal.addEventListener("abort", () => cleanup(), { once: true });
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(stream, { headers: EVENT_STREAM_HEADERS });
}
