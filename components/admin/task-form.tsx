"use client";
import { useActionState, useEffect, useRef, useState } from "react";
import { saveTaskAction, type ActionState } from "@/app/admin/actions";
import { primaryButton, secondaryButton } from "@/components/site/form-parts";
import { Markdown } from "@/components/site/markdown";
import { memoryLimitWarning, type WorkerRoom } from "@/lib/admin/memory-room";
import { FormulaPreviewPanel, RescoreConfirm } from "./scoring-panels";

/**
 * Create or edit a task; the server validates it (taskConfigSchema) and answers field errors in
 * plain words. A refused form keeps what was typed (the action echoes it back), shows each
 * message beside its field and moves the focus to the first invalid field.
 */
const FIELDS: { name: string; label: string; type?: string; hint?: string; textarea?: boolean; options?: string[] }[] = [
  { name: "slug", label: "Slug", hint: "in URLs: /submit/{slug}" },
  { name: "title", label: "Title" },
  { name: "description", label: "Description (Markdown)", textarea: true, hint: "Markdown: headings, lists, links, code; raw HTML is not rendered." },
  { name: "kind", label: "Kind", options: ["CLASSIFICATION", "REGRESSION"] },
  { name: "inputSpec", label: "Inputs (signature, JSON)", textarea: true, hint: '[{"name":"input","dtype":"float32","shape":[-1,784]}]; -1 is the batch dimension' },
  { name: "outputSpec", label: "Output (signature, JSON)", textarea: true },
  { name: "metrics", label: "Metrics", hint: "comma-separated; empty: all of the kind's (accuracy, macro_f1, top_k / mse, mae, rmse, r2)" },
  { name: "rankMetric", label: "Ranking metric" },
  { name: "direction", label: "Direction", options: ["", "MAXIMIZE", "MINIMIZE"], hint: "empty: the metric's natural direction" },
  { name: "topK", label: "k for top-k", type: "number" },
  {
    name: "scoreFormula",
    label: "Score formula (optional)",
    textarea: true,
    hint: "empty: rank by the ranking metric. Variables: the task's metrics, params, model_bytes, latency_p50_ms, latency_p95_ms; functions: log, log10, log2, sqrt, exp, abs, pow, min, max; e.g. accuracy - 0.02 * log10(params)",
  },
  { name: "maxModelMb", label: "Model size limit (MB)", type: "number" },
  { name: "dailySubmissionLimit", label: "Submissions per team per day", type: "number" },
  { name: "evalTimeoutS", label: "Evaluation time limit (s)", type: "number" },
  { name: "evalMemoryMb", label: "Evaluation memory limit (MB)", type: "number" },
  { name: "batchSize", label: "Batch size", type: "number" },
  { name: "opensAt", label: "Opens (UTC)", type: "datetime-local" },
  { name: "closesAt", label: "Closes (UTC)", type: "datetime-local" },
  {
    name: "teamMergeDeadline",
    label: "Team merge deadline (UTC)",
    type: "datetime-local",
    hint: "from then until the close, whoever has submitted to this task (or whose team has) cannot join, leave or create a team; empty: when the task opens",
  },
  { name: "publicFraction", label: "Public fraction of the test set", type: "number", hint: "between 0 and 1, e.g. 0.5" },
  { name: "publicFreezeMinutes", label: "Freeze the public leaderboard for the last N minutes", type: "number" },
  {
    name: "finalSubmissionLimit",
    label: "Final submissions per team (K)",
    type: "number",
    hint: "the private leaderboard ranks each team by the best of the K submissions it selects (default: its K best public ones)",
  },
  {
    name: "showReferenceOnBoards",
    label: "Reference model on the leaderboards",
    options: ["hidden", "shown"],
    hint: "shown: the latest scored reference model appears as an unranked row labelled \"Reference\", where its score falls",
  },
];

/**
 * The live workers' room for a model beside the memory limit, and a warning as soon as the limit
 * typed is larger than some worker's room (lib/admin/memory-room.ts).
 */
function MemoryRoomHint({ id, limitMb, rooms }: { id: string; limitMb: string; rooms: WorkerRoom[] }) {
  const mb = (value: number) => `${Math.round(value).toLocaleString("en")} MB`;
  const least = rooms[0];
  const most = rooms[rooms.length - 1];
  const limit = Number(limitMb || "2048");
  const warning = Number.isFinite(limit) ? memoryLimitWarning(limit, rooms) : null;
  return (
    <>
      <p id={`${id}-room`} className="text-xs text-slate-600" data-testid="worker-memory-room">
        {least
          ? `Room for a model on the live workers now: ${least.roomMb === most.roomMb ? mb(least.roomMb) : `${mb(least.roomMb)} (${least.workerId}) to ${mb(most.roomMb)}`}.`
          : "Room for a model on the workers: unknown (no live worker reports it)."}
      </p>
      {warning && (
        <p role="status" className="mt-0.5 rounded border border-amber-300 bg-amber-50 px-2 py-1 text-sm text-amber-900" data-testid="memory-limit-warning">
          {warning}
        </p>
      )}
    </>
  );
}

export function TaskForm({ initial, existingSlug, workerRooms }: { initial: Record<string, string>; existingSlug?: string; workerRooms: WorkerRoom[] }) {
  const [state, formAction, pending] = useActionState<ActionState | null, FormData>(saveTaskAction, null);
  const values = state?.values ?? initial;
  const [description, setDescription] = useState(values.description ?? "");
  const [memoryLimit, setMemoryLimit] = useState(values.evalMemoryMb ?? "");
  const [previewing, setPreviewing] = useState(false);
  const form = useRef<HTMLFormElement>(null);

  useEffect(() => {
    if (!state?.fieldErrors) return;
    const first = FIELDS.find((field) => state.fieldErrors?.[field.name]);
    if (first) form.current?.querySelector<HTMLElement>(`#task-${first.name}`)?.focus();
  }, [state]);

  const formErrors = state?.fieldErrors?.form ?? [];
  const readScoring = () => {
    const value = (name: string) => form.current?.querySelector<HTMLInputElement>(`[name="${name}"]`)?.value ?? "";
    return { formula: value("scoreFormula"), metrics: value("metrics"), direction: value("direction") };
  };
  return (
    // Remounted with each answer so every field shows the values the server echoed back.
    <form key={state?.values ? JSON.stringify(state.values) : "initial"} ref={form} action={formAction} className="grid max-w-3xl gap-4" aria-label="Task configuration" noValidate>
      {existingSlug && <input type="hidden" name="existingSlug" value={existingSlug} />}
      {FIELDS.map((field) => {
        const error = state?.fieldErrors?.[field.name];
        const id = `task-${field.name}`;
        const describedBy = [field.hint ? `${id}-hint` : "", field.name === "evalMemoryMb" ? `${id}-room` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
        const common = {
          id,
          name: field.name,
          defaultValue: values[field.name] ?? "",
          disabled: field.name === "slug" && Boolean(existingSlug),
          className: `w-full rounded-md border px-2 py-1.5 text-sm ${error ? "border-red-600" : "border-slate-300"}`,
          "aria-invalid": error ? true : undefined,
          "aria-describedby": describedBy,
        };
        return (
          <div key={field.name}>
            <label htmlFor={id} className="block text-sm font-medium">
              {field.label}
            </label>
            {field.options ? (
              <select {...common}>
                {field.options.map((option) => (
                  <option key={option} value={option}>
                    {option || "(natural)"}
                  </option>
                ))}
              </select>
            ) : field.name === "description" ? (
              <>
                {previewing ? (
                  <div className="min-h-24 rounded-md border border-slate-300 bg-white p-3" data-testid="description-preview">
                    <Markdown text={description || "_Nothing to preview._"} />
                  </div>
                ) : null}
                {/* Kept mounted (hidden while previewing) so the form still posts the text. */}
                <textarea {...common} rows={6} hidden={previewing} onChange={(event) => setDescription(event.target.value)} />
                <button type="button" className={`${secondaryButton} mt-1`} aria-pressed={previewing} onClick={() => setPreviewing(!previewing)}>
                  {previewing ? "Edit" : "Preview"}
                </button>
              </>
            ) : field.textarea ? (
              <textarea {...common} rows={2} />
            ) : (
              <input
                {...common}
                type={field.type ?? "text"}
                step={field.type === "number" ? "any" : undefined}
                onChange={field.name === "evalMemoryMb" ? (event) => setMemoryLimit(event.target.value) : undefined}
              />
            )}
            {field.hint && (
              <p id={`${id}-hint`} className="text-xs text-slate-600">
                {field.hint}
              </p>
            )}
            {error && (
              <p id={`${id}-error`} className="mt-0.5 text-sm text-red-700" data-testid={`error-${field.name}`}>
                {error.join(" ")}
              </p>
            )}
            {field.name === "evalMemoryMb" && <MemoryRoomHint id={id} limitMb={memoryLimit} rooms={workerRooms} />}
            {field.name === "scoreFormula" && existingSlug && <FormulaPreviewPanel slug={existingSlug} readForm={readScoring} />}
          </div>
        );
      })}
      {state?.confirm && <RescoreConfirm plan={state.confirm} />}
      <div className="flex flex-wrap items-center gap-3">
        <button type="submit" disabled={pending} className={primaryButton}>
          {pending ? "Saving…" : existingSlug ? "Save" : "Create task"}
        </button>
        {state && (
          <span role="status" className={`text-sm ${state.ok ? "text-emerald-700" : "text-red-700"}`} data-testid="task-form-status">
            {state.ok || state.confirm ? state.message : `${state.message}${state.fieldErrors ? " Each problem is shown beside its field." : ""}`} {formErrors.join(" ")}
          </span>
        )}
      </div>
    </form>
  );
}
