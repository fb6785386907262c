/** Reads a server-sent-event Response in the background: the events so far, and whether the server closed it. */
export interface EventReader {
  events: { event: string; data: Record<string, unknown> }[];
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
      buffer += decoder.decode(chunk.value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.+)$/m.exec(block)?.[1];
        const data = /^data: (.+)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
      }
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
