"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useRef, useState, type DragEvent } from "react";
import { flushSync } from "react-dom";
import { Field, inputClass, primaryButton, secondaryButton } from "@/components/site/form-parts";
import { localLabel } from "@/components/site/local-time";
import { formatBytes } from "@/components/tasks/format";

/**
 * The browser's way into the same upload path as curl: `POST /submit/{task}`, multipart field
 * "file", authenticated by the session cookie. XMLHttpRequest rather than fetch because only it
 * reports upload progress; the File is streamed by the browser, never read into page memory, so
 * a large model does not freeze the page.
 */
export const SUBMISSION_ACCEPTED_EVENT = "goat:submission-accepted";

type Outcome =
  | { kind: "accepted"; id: number; queuePosition: number; remaining: number | null }
  | { kind: "refused"; status: number; code: string; message: string };

/** The API's messages carry ISO times (the quota's reset); the page says them in the reader's zone. */
export function humanTimes(message: string): string {
  return message.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?Z/g, (iso) => localLabel(iso));
}

export function UploadForm({
  taskSlug,
  maxModelBytes,
  linkToSubmissions = true,
  quotaRemaining = null,
}: {
  taskSlug: string;
  maxModelBytes: number;
  linkToSubmissions?: boolean;
  /** submissions the team has left today; at 0 the form is disabled (the server would refuse) */
  quotaRemaining?: number | null;
}) {
  const router = useRouter();
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [dragging, setDragging] = useState(false);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const input = useRef<HTMLInputElement>(null);
  const uploading = progress !== null;
  const exhausted = quotaRemaining === 0;

  function choose(chosen: File | null | undefined) {
    setOutcome(null);
    if (!chosen) return;
    if (!chosen.name.toLowerCase().endsWith(".onnx")) {
      setFile(null);
      setOutcome({ kind: "refused", status: 0, code: "NOT_ONNX", message: `"${chosen.name}" is not an .onnx file. Export your model to ONNX and pick the .onnx file.` });
      return;
    }
    if (chosen.size > maxModelBytes) {
      setFile(null);
      setOutcome({ kind: "refused", status: 413, code: "PAYLOAD_TOO_LARGE", message: `"${chosen.name}" is ${formatBytes(chosen.size)}; this task takes models up to ${formatBytes(maxModelBytes)}.` });
      return;
    }
    setFile(chosen);
  }

  function onDrop(event: DragEvent<HTMLDivElement>) {
    event.preventDefault();
    setDragging(false);
    if (!uploading) choose(event.dataTransfer.files?.[0]);
  }

  function upload() {
    if (!file) return;
    const form = new FormData();
    // The labels go before the file, as curl users are shown (-F name=... -F file=@...).
    if (name.trim()) form.append("name", name.trim());
    if (description.trim()) form.append("description", description.trim());
    form.append("file", file, file.name);
    const request = new XMLHttpRequest();
    request.open("POST", `/submit/${encodeURIComponent(taskSlug)}`);
    request.responseType = "json";
    // Rounded down: 100% means the whole file was sent, which the browser says in its own event. A
    // fast answer can come in the same turn as that event, and React would then render the two
    // states as one (the bar gone at 99%): 100% is rendered at once, before the answer's handler.
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) setProgress(Math.min(99, Math.floor((event.loaded / event.total) * 100)));
    };
    request.upload.onload = () => flushSync(() => setProgress(100));
    request.onload = () => {
      setProgress(null);
      const body = request.response as Record<string, unknown> | null;
      if (request.status === 202 && body) {
        const quota = body.quota as { remaining?: number } | undefined;
        setOutcome({ kind: "accepted", id: Number(body.id), queuePosition: Number(body.queuePosition), remaining: quota?.remaining ?? null });
        setFile(null);
        setName("");
        setDescription("");
        if (input.current) input.current.value = "";
        window.dispatchEvent(new CustomEvent(SUBMISSION_ACCEPTED_EVENT, { detail: { taskSlug, id: body.id } }));
        // The page's quota line (and the curl example's submission id) come from the server.
        router.refresh();
      } else {
        const error = (body?.error ?? {}) as { code?: string; message?: string };
        setOutcome({
          kind: "refused",
          status: request.status,
          code: error.code ?? "ERROR",
          message: error.message ? humanTimes(error.message) : `The upload failed (HTTP ${request.status}). Please try again.`,
        });
      }
    };
    request.onerror = () => {
      setProgress(null);
      setOutcome({ kind: "refused", status: 0, code: "NETWORK", message: "The upload was interrupted (network error). Check your connection and try again." });
    };
    setOutcome(null);
    setProgress(0);
    request.send(form);
  }

  return (
    <div className="space-y-3" data-testid="upload-form">
      <div
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        className={`flex flex-col items-center justify-center gap-2 rounded-lg border-2 border-dashed p-6 text-center text-sm ${dragging ? "border-indigo-500 bg-indigo-50" : "border-slate-300 bg-slate-50"}`}
      >
        <p className="text-slate-700">Drop your <code>.onnx</code> model here, or</p>
        <label className={`${secondaryButton} cursor-pointer focus-within:outline-2 focus-within:outline-offset-2 focus-within:outline-indigo-600 ${exhausted ? "pointer-events-none opacity-60" : ""}`}>
          Choose a file
          <input
            ref={input}
            type="file"
            accept=".onnx"
            name="file"
            className="sr-only"
            disabled={uploading || exhausted}
            data-testid="model-file"
            onChange={(event) => choose(event.target.files?.[0])}
          />
        </label>
        <p className="text-xs text-slate-500">Up to {formatBytes(maxModelBytes)}.</p>
      </div>
      {file && (
        <p className="text-sm">
          Selected: <span className="font-medium">{file.name}</span> ({formatBytes(file.size)})
        </p>
      )}
      <div className="grid gap-3 sm:grid-cols-2">
        <Field label="Name (optional)" htmlFor={`submission-name-${taskSlug}`} hint="Up to 100 characters; you can change it later.">
          <input
            id={`submission-name-${taskSlug}`}
            value={name}
            onChange={(event) => setName(event.target.value)}
            maxLength={100}
            disabled={uploading}
            className={inputClass}
            data-testid="submission-name-input"
          />
        </Field>
        <Field label="Description (optional)" htmlFor={`submission-description-${taskSlug}`} hint="Up to 1000 characters.">
          <textarea
            id={`submission-description-${taskSlug}`}
            value={description}
            onChange={(event) => setDescription(event.target.value)}
            maxLength={1000}
            rows={1}
            disabled={uploading}
            className={inputClass}
            data-testid="submission-description-input"
          />
        </Field>
      </div>
      {uploading && (
        <div className="space-y-1">
          <div className="h-2 w-full overflow-hidden rounded bg-slate-200" role="progressbar" aria-valuenow={progress} aria-valuemin={0} aria-valuemax={100} aria-label="Upload progress">
            <div className="h-full bg-indigo-600 transition-[width]" style={{ width: `${progress}%` }} />
          </div>
          <p className="text-xs text-slate-600">{progress < 100 ? `Uploading… ${progress}%` : "Uploaded; checking the model…"}</p>
        </div>
      )}
      <button type="button" onClick={upload} disabled={!file || uploading || exhausted} className={primaryButton}>
        {uploading ? "Uploading…" : "Submit model"}
      </button>
      {outcome?.kind === "accepted" && (
        <p className="rounded-md bg-green-50 p-3 text-sm text-green-900" role="status" data-testid="upload-accepted">
          {/* Said as of its arrival: this note does not follow the submission (its page and My submissions do). */}
          Accepted: <Link href={`/tasks/${taskSlug}/submissions/${outcome.id}`} className="underline">submission #{outcome.id}</Link>, position {outcome.queuePosition} in the queue when it arrived.
          {outcome.remaining !== null && ` ${outcome.remaining} submission(s) left today.`}{" "}
          {linkToSubmissions ? (
            <Link href={`/tasks/${taskSlug}/submissions`} className="underline">
              Follow it on My submissions
            </Link>
          ) : (
            "It is followed live below."
          )}
        </p>
      )}
      {outcome?.kind === "refused" && (
        <div className="rounded-md bg-red-50 p-3 text-sm text-red-900" role="alert" data-testid="upload-refused">
          <p className="font-medium">Refused{outcome.code ? ` (${outcome.code})` : ""}:</p>
          <p data-testid="upload-refused-message">{outcome.message}</p>
        </div>
      )}
    </div>
  );
}
