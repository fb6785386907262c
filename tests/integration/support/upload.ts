import { POST as submitRoute } from "@/app/submit/[task]/route";
import { GET as statusRoute } from "@/app/submit/[task]/status/[id]/route";
import { GET as queueStatusRoute } from "@/app/submit/queue/status/route";
import { GET as leaderboardRoute } from "@/app/api/tasks/[task]/leaderboard/route";

/** Calls the real route handlers with real Requests (multipart bodies streamed like curl's). */
const BASE = "http://localhost:8000";

/** `token` null sends no Authorization header; a string starting with "Basic " is sent as the whole header. */
export async function upload(task: string, token: string | null, body: Uint8Array | null, fileName = "model.onnx") {
  const form = new FormData();
  if (body) form.append("file", new Blob([body as Uint8Array<ArrayBuffer>]), fileName);
  const headers: Record<string, string> = token ? { authorization: token.startsWith("Basic ") ? token : `Bearer ${token}` } : {};
  const request = new Request(`${BASE}/submit/${task}`, { method: "POST", body: form, headers });
  const response = await submitRoute(request, { params: Promise.resolve({ task }) });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

export async function submissionStatus(task: string, id: number | string, token: string) {
  const request = new Request(`${BASE}/submit/${task}/status/${id}`, { headers: { authorization: `Bearer ${token}` } });
  const response = await statusRoute(request, { params: Promise.resolve({ task, id: String(id) }) });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

export async function queueStatus(token: string) {
  const response = await queueStatusRoute(new Request(`${BASE}/submit/queue/status`, { headers: { authorization: `Bearer ${token}` } }));
  return { status: response.status, body: await response.json() };
}

export async function leaderboard(task: string, board?: "private") {
  const url = `${BASE}/api/tasks/${task}/leaderboard${board ? "?board=private" : ""}`;
  const response = await leaderboardRoute(new Request(url), { params: Promise.resolve({ task }) });
  return { status: response.status, body: await response.json() };
}
