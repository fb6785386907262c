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
