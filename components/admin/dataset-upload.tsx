"use client";
import { useEffect, useState } from "react";
import type { TaskValidation } from "@/lib/tasks/reference-model";
import { fileInputClass, primaryButton } from "@/components/site/form-parts";
import { formatBytes } from "@/components/tasks/format";
import { useHydrated } from "@/components/site/local-time";

/**
 * Uploads a task's dataset files and, optionally, a reference model, then follows the reference
 * submission until it is scored or fails, so the organiser learns of a broken dataset first.
 * Files go to route handlers (streamed), not server actions (which cap bodies at 1 MB).
 */
export function DatasetUpload({ slug, initial }: { slug: string; initial: TaskValidation }) {
  const [validation, setValidation] = useState(initial);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  // Uploads from JavaScript; submitted before hydration the form would be a native GET and the files chosen would be lost.
  const hydrated = useHydrated();
  const pending = validation.reference && ["QUEUED", "RUNNING"].includes(validation.reference.status);

  useEffect(() => {
    if (!pending) return;
    const timer = setInterval(async () => {
      const response = await fetch(`/api/admin/tasks/${slug}/validation`, { cache: "no-store" });
      if (response.ok) setValidation(await response.json());
    }, 1_500);
    return () => clearInterval(timer);
  }, [pending, slug]);

  async function upload(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setMessage(null);
    try {
      const inputs = form.get("inputs") as File | null;
      if (inputs && inputs.size > 0) {
        const data = new FormData();
        for (const field of ["inputs", "labels", "train"]) {
          const file = form.get(field) as File | null;
          if (file && file.size > 0) data.append(field, file, file.name);
        }
        const response = await fetch(`/api/admin/tasks/${slug}/dataset`, { method: "POST", body: data });
        const body = await response.json();
        if (!response.ok) {
          setMessage({ ok: false, text: `Dataset refused: ${body.error?.message ?? response.status}` });
          return;
        }
        // A dataset with new content is a new scoring version: its evaluated submissions are re-scored (docs/ranking.md).
        const rescoring = Number(body.rescoring ?? 0);
        setMessage({
          ok: true,
          text: `Dataset imported: ${body.rows} test rows (version ${String(body.version).slice(0, 12)}).${rescoring > 0 ? ` A new scoring version: ${rescoring} submissions are being re-scored.` : ""}`,
        });
      }
      const reference = form.get("reference") as File | null;
      if (reference && reference.size > 0) {
        const data = new FormData();
        data.append("file", reference, reference.name);
        const response = await fetch(`/api/admin/tasks/${slug}/reference`, { method: "POST", body: data });
        const body = await response.json();
        if (!response.ok) {
          setMessage({ ok: false, text: `Reference model refused: ${body.error?.message ?? response.status}` });
          return;
        }
      }
      const response = await fetch(`/api/admin/tasks/${slug}/validation`, { cache: "no-store" });
      if (response.ok) setValidation(await response.json());
    } finally {
      setBusy(false);
    }
  }

  const reference = validation.reference;
  return (
    <div className="space-y-3">
      <p className="text-sm" data-testid="dataset-status">
        Dataset: {validation.datasetVersion ? `version ${validation.datasetVersion.slice(0, 12)}` : <span className="text-red-700">none yet; participants&apos; models cannot be evaluated</span>}
      </p>
      <form onSubmit={upload} className="grid max-w-xl gap-3 text-sm" aria-label="Dataset upload">
        <label className="font-medium text-slate-800">Test inputs (.npy or .npz) <input type="file" name="inputs" accept=".npy,.npz" className={fileInputClass} /></label>
        <label className="font-medium text-slate-800">Test labels (.npy) <input type="file" name="labels" accept=".npy" className={fileInputClass} /></label>
        <label className="font-medium text-slate-800">Training data for participants (.npz, optional) <input type="file" name="train" accept=".npz" className={fileInputClass} /></label>
        <label className="font-medium text-slate-800">Reference model (.onnx, optional) <input type="file" name="reference" accept=".onnx" className={fileInputClass} /></label>
        <button type="submit" disabled={!hydrated || busy} className={`${primaryButton} w-fit`}>{busy ? "Uploading…" : "Upload and validate"}</button>
      </form>
      {message && <p role="status" className={`text-sm ${message.ok ? "text-emerald-700" : "text-red-700"}`}>{message.text}</p>}
      {reference && (
        <p className="text-sm" data-testid="reference-status">
          Reference model #{reference.id}: <strong>{reference.status}</strong>
          {reference.status === "SCORED" && ` · ${reference.metric} ${reference.publicScore?.toFixed(4)} public, ${reference.privateScore?.toFixed(4)} private`}
          {reference.status === "SCORED" && reference.peakMemoryBytes !== null && ` · peak memory ${formatBytes(reference.peakMemoryBytes)}`}
          {reference.status === "FAILED" && ` · ${reference.failureKind === "PARTICIPANT" ? "the model or the dataset is broken" : "a platform fault"}: ${reference.message}`}
        </p>
      )}
    </div>
  );
}
