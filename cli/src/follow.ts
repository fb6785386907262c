import type { GoatApi } from "./api.ts";
import { CliError } from "./errors.ts";

/**
 * `goat submit --wait`: follows the task's server-sent-event stream
 * (GET /api/tasks/{task}/submissions/events) and re-reads the submission's status whenever the
 * stream says it (or the queue ahead of it) changed, until it is scored, failed or cancelled. The
 * status is also read once the stream is open (the model may have been scored before that) and
 * every RECHECK_MS in case an event was lost; a dropped stream is reopened.
 */
export interface SubmissionStatus {
  id: number;
  task: string;
  status: "QUEUED" | "RUNNING" | "SCORED" | "FAILED" | "CANCELLED";
  queuePosition: number | null;
  failureKind: "PARTICIPANT" | "PLATFORM" | null;
  message: string | null;
  result: { score: number; metrics: Record<string, number>; latencyP50Ms: number; evaluationMs: number | null } | null;
  [key: string]: unknown;
}

export const FINAL_STATUSES = new Set(["SCORED", "FAILED", "CANCELLED"]);
const RECHECK_MS = 15_000;
const RECONNECT_MS = 3_000;

export function statusPath(task: string, id: number): string {
  return `/submit/${encodeURIComponent(task)}/status/${id}`;
}

/** Splits an event stream into { event, data } records (https://html.spec.whatwg.org/multipage/server-sent-events.html). */
export async function* serverSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; data: string }> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
      let event = "message";
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) yield { event, data: data.join("\n") };
    }
  }
}

export async function followSubmission(
  api: GoatApi,
  task: string,
  id: number,
  onChange: (status: SubmissionStatus) => void,
): Promise<SubmissionStatus> {
  let last = "";
  const read = async () => {
    const status = await api.getJson<SubmissionStatus>(statusPath(task, id));
    const key = `${status.status}:${status.queuePosition}`;
    if (key !== last) {
      last = key;
      onChange(status);
    }
    return status;
  };

  for (;;) {
    const abort = new AbortController();
    const response = await api.fetch(`/api/tasks/${encodeURIComponent(task)}/submissions/events`, {
      signal: abort.signal,
      headers: { Accept: "text/event-stream" },
    });
    if (!response.ok || !response.body) {
      throw new CliError(`Cannot follow the submission's status (the event stream answered ${response.status}).`, `Run \`goat status ${id}\` to see it.`);
    }
    let final: SubmissionStatus | null = null;
    const recheck = setInterval(() => {
      read().then((status) => {
        if (FINAL_STATUSES.has(status.status)) {
          final = status;
          abort.abort();
        }
      }, () => undefined);
    }, RECHECK_MS);
    try {
      const now = await read();
      if (FINAL_STATUSES.has(now.status)) return now;
      for await (const message of serverSentEvents(response.body)) {
        if (message.event === "submission") {
          const data = JSON.parse(message.data) as { submissionId?: number };
          if (data.submissionId !== id) continue;
        } else if (message.event !== "queue") continue;
        const status = await read();
        if (FINAL_STATUSES.has(status.status)) return status;
      }
    } catch (error) {
      if (final) return final;
      if ((error as Error).name !== "AbortError" && !(error instanceof TypeError)) throw error;
    } finally {
      clearInterval(recheck);
      abort.abort();
    }
    if (final) return final;
    // The stream ended (the server restarted, a proxy timed out): reopen it, as EventSource would.
    await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
  }
}
