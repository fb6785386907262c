import { CliError } from "./errors.ts";
import type { GoatConfig } from "./config.ts";

/**
 * The few HTTP calls the CLI makes. Every error answer of the API is
 * `{ "error": { "code", "message" } }`; this turns it into a CliError with the API's message and a
 * hint that says what to do next.
 */
export interface ApiErrorBody {
  error?: { code?: string; message?: string };
}

const HINTS: Record<string, string> = {
  UNAUTHORIZED: "Your token was refused: create a new one on the server's /tokens page and run `goat login` again.",
  NO_TEAM: "Create or join a team on the server's /team page first.",
  TASK_NOT_FOUND: "Run `goat tasks` to see the tasks on this server.",
  NOT_FOUND: "Run `goat submissions TASK` to see your team's submissions.",
  QUOTA_EXCEEDED: "Your team has used today's submissions for this task; try again tomorrow (UTC).",
  TASK_CLOSED: "This task takes no more submissions.",
  TASK_NOT_OPEN: "Wait until the task opens.",
  PAYLOAD_TOO_LARGE: "Make the model smaller (fewer or smaller weights) and submit again.",
  SIGNATURE_MISMATCH: "Compare your model's inputs and outputs with the task's signature on its page.",
  NOT_ONNX: "Export the model to ONNX (e.g. torch.onnx.export) and submit the .onnx file.",
  TRUNCATED_MODEL: "The file is cut short or damaged: export the model again and submit the new file.",
  QUEUE_UNAVAILABLE: "The server cannot reach its queue right now; try again in a minute.",
  INTERNAL: "Something failed on the server; try again, and tell the organisers if it persists.",
};

export function hintFor(code: string | null, status: number): string | null {
  if (code && HINTS[code]) return HINTS[code];
  if (status === 401) return HINTS.UNAUTHORIZED;
  if (status >= 500) return HINTS.INTERNAL;
  return null;
}

export async function errorFromResponse(response: Response, exitCode?: number): Promise<CliError> {
  const text = await response.text().catch(() => "");
  let body: ApiErrorBody | null = null;
  try {
    body = JSON.parse(text) as ApiErrorBody;
  } catch {
    // not JSON: a proxy's page, or a route this server does not have
  }
  const code = body?.error?.code ?? null;
  const message = body?.error?.message ?? `The server answered ${response.status} ${response.statusText}.`;
  return new CliError(message, hintFor(code, response.status), exitCode, response.status, code);
}

export class GoatApi {
  constructor(readonly config: GoatConfig) {}

  url(path: string): string {
    return this.config.url + path;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { Authorization: `Bearer ${this.config.token}`, Accept: "application/json", ...extra };
  }

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await fetch(this.url(path), { ...init, headers: this.headers(init.headers as Record<string, string> | undefined) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `Cannot reach ${this.config.url}: ${cause?.code ?? cause?.message ?? (error as Error).message}.`,
        "Check the URL (`goat login --url URL` or GOAT_URL) and that the server is running.",
      );
    }
  }

  async getJson<T>(path: string): Promise<T> {
    const response = await this.fetch(path);
    if (!response.ok) throw await errorFromResponse(response);
    return (await response.json()) as T;
  }

  async postJson<T>(path: string, body: unknown): Promise<{ response: Response; body: T | null }> {
    const response = await this.fetch(path, { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
    return { response, body: response.ok ? ((await response.json()) as T) : null };
  }
}
