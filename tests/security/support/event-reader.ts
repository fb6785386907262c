import { takeEventBlocks, type ReceivedEvent } from "../../integration/support/server-sent-events";

/** Reads a server-sent-event Response in the background: the events so far, and whether the server closed it. */
export interface EventReader {
  events: ReceivedEvent[];
  closed: () => boolean;
  cancel: () => Promise<void>;
}

export function readEventStream(response: Response): EventReader {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: EventReader["events"] = [];
  let closed = false;
  let buffer = "";
  void (async () => {
    for (;;) {
      const chunk = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (chunk.done) break;
      const taken = takeEventBlocks(buffer + decoder.decode(chunk.value, { stream: true }));
      events.push(...taken.events);
      buffer = taken.rest;
    }
    closed = true;
  })();
  return { events, closed: () => closed, cancel: () => reader.cancel().catch(() => undefined) };
}

/** Polls `condition` until it holds or the deadline passes (no fixed sleeps). */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
