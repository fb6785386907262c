import { execFileSync } from "node:child_process";

// The stack's web app through its published port only, as a participant (curl) and an organiser
// (a signed-in browser session) reach it.

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** A curl command line run through a shell, as a participant pastes it; -w appends the status code. */
export function curl(commandLine: string, cwd: string): Answer {
  const output = execFileSync("bash", ["-c", `${commandLine} -s -w '\\n%{http_code}'`], { cwd, encoding: "utf8" });
  const lines = output.trimEnd().split("\n");
  const status = Number(lines.pop());
  return { status, body: JSON.parse(lines.join("\n")) };
}

export interface SubmissionStatus {
  id: number;
  status: string;
  attempts: number;
  failureKind: string | null;
  message: string | null;
  result: { score: number; metrics: Record<string, number>; receipt: { workerId: string; rows: number; executionProvider: string } } | null;
}

export class Web {
  constructor(readonly baseUrl: string) {}

  async json<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.baseUrl}${path}`, { ...init, redirect: "manual" }).catch((error: Error & { cause?: { code?: string } }) => {
      // A kept-alive connection that the server closed while idle fails before the request is
      // sent (seen twice on a loaded machine): retry once on a new connection.
      if (error.cause?.code !== "UND_ERR_SOCKET" && error.cause?.code !== "ECONNRESET") throw error;
      return fetch(`${this.baseUrl}${path}`, { ...init, redirect: "manual" });
    });
    return { status: response.status, body: (await response.json()) as T };
  }

  async upload(task: string, token: string, model: Uint8Array, fileName = "model.onnx"): Promise<{ id: number }> {
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(model)]), fileName);
    const { status, body } = await this.json<{ id: number }>(`/submit/${task}`, { method: "POST", body: form, headers: { authorization: `Bearer ${token}` } });
    if (status !== 202) throw new Error(`upload answered ${status}: ${JSON.stringify(body)}`);
    return body;
  }

  async submission(task: string, id: number, token: string): Promise<SubmissionStatus> {
    return (await this.json<SubmissionStatus>(`/submit/${task}/status/${id}`, { headers: { authorization: `Bearer ${token}` } })).body;
  }

  async queueStatus(token: string): Promise<{ waiting: number; running: number; workersOnline: number }> {
    return (await this.json<{ waiting: number; running: number; workersOnline: number }>("/submit/queue/status", { headers: { authorization: `Bearer ${token}` } })).body;
  }

  /** Signs in with next-auth's credentials provider (as the sign-in form does) and returns the session cookie. */
  async signIn(email: string, password: string): Promise<string> {
    const csrf = await fetch(`${this.baseUrl}/api/auth/csrf`);
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    const cookies = csrf.headers.getSetCookie().map((cookie) => cookie.split(";")[0]);
    const response = await fetch(`${this.baseUrl}/api/auth/callback/credentials`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookies.join("; ") },
      body: new URLSearchParams({ csrfToken, email, password, json: "true" }),
    });
    const session = response.headers.getSetCookie().map((cookie) => cookie.split(";")[0]).find((cookie) => cookie.startsWith("next-auth.session-token="));
    if (!session) throw new Error(`sign-in as ${email} answered ${response.status} without a session cookie`);
    return session;
  }

  async dashboard(sessionCookie: string): Promise<DashboardView> {
    const { status, body } = await this.json<DashboardView>("/api/admin/dashboard", { headers: { cookie: sessionCookie } });
    if (status !== 200) throw new Error(`the admin dashboard answered ${status}: ${JSON.stringify(body)}`);
    return body;
  }
}

export interface DashboardView {
  workers: { id: string; host: string; executionProvider: string; health: string; currentSubmissionId: number | null; gpuMemLimitMb: number | null }[];
  queue: { waiting: number; running: number };
}
