export interface ReceivedEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Splits the complete `event:`/`data:` blocks off a server-sent-event buffer; `rest` is the unfinished tail. */
export function takeEventBlocks(buffer: string): { events: ReceivedEvent[]; rest: string } {
  const events: ReceivedEvent[] = [];
  let rest = buffer;
  let end: number;
  while ((end = rest.indexOf("\n\n")) >= 0) {
    const block = rest.slice(0, end);
    rest = rest.slice(end + 2);
    const event = /^event: (.+)$/m.exec(block)?.[1];
    const data = /^data: (.+)$/m.exec(block)?.[1];
    if (event && data) events.push({ event, data: JSON.parse(data) });
  }
  return { events, rest };
}

/** Reads server-sent events from a streaming Response until `count` events arrived (or the timeout). */
export async function readEvents(response: Response, count: number, timeoutMs = 3000): Promise<ReceivedEvent[]> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: ReceivedEvent[] = [];
  let buffer = "";
  const deadline = Date.now() + timeoutMs;
  while (events.length < count && Date.now() < deadline) {
    const chunk = await Promise.race([reader.read(), new Promise<null>((resolve) => setTimeout(() => resolve(null), deadline - Date.now()))]);
    if (!chunk || chunk.done) break;
    const taken = takeEventBlocks(buffer + decoder.decode(chunk.value, { stream: true }));
    events.push(...taken.events);
    buffer = taken.rest;
  }
  await reader.cancel().catch(() => undefined);
  return events;
}
