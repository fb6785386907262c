"use client";
import { useActionState } from "react";
import { saveTaskAction, type ActionState } from "@/app/admin/actions";

/** Create or edit a task; the server validates it (taskConfigSchema) and answers field errors. */
const FIELDS: { name: string; label: string; type?: string; hint?: string; textarea?: boolean; options?: string[] }[] = [
  { name: "slug", label: "Slug", hint: "in URLs: /submit/{slug}" },
  { name: "title", label: "Title" },
  { name: "description", label: "Description", textarea: true },
  { name: "kind", label: "Kind", options: ["CLASSIFICATION", "REGRESSION"] },
  { name: "inputSpec", label: "Inputs (signature, JSON)", textarea: true, hint: '[{"name":"input","dtype":"float32","shape":[-1,784]}]; -1 is the batch dimension' },
  { name: "outputSpec", label: "Output (signature, JSON)", textarea: true },
  { name: "metrics", label: "Metrics", hint: "comma-separated; empty: all of the kind's (accuracy, macro_f1, top_k / mse, mae, rmse, r2)" },
  { name: "rankMetric", label: "Ranking metric" },
  { name: "direction", label: "Direction", options: ["", "MAXIMIZE", "MINIMIZE"], hint: "empty: the metric's natural direction" },
  { name: "topK", label: "k for top-k", type: "number" },
  { name: "maxModelMb", label: "Model size limit (MB)", type: "number" },
  { name: "dailySubmissionLimit", label: "Submissions per team per day", type: "number" },
  { name: "evalTimeoutS", label: "Evaluation time limit (s)", type: "number" },
  { name: "evalMemoryMb", label: "Evaluation memory limit (MB)", type: "number" },
  { name: "batchSize", label: "Batch size", type: "number" },
  { name: "opensAt", label: "Opens (UTC)", type: "datetime-local" },
  { name: "closesAt", label: "Closes (UTC)", type: "datetime-local" },
  { name: "publicFraction", label: "Public fraction of the test set", type: "number" },
  { name: "publicFreezeMinutes", label: "Freeze the public leaderboard for the last N minutes", type: "number" },
];

export function TaskForm({ initial, existingSlug }: { initial: Record<string, string>; existingSlug?: string }) {
  const [state, formAction, pending] = useActionState<ActionState | null, FormData>(saveTaskAction, null);
  return (
    <form action={formAction} className="grid max-w-3xl gap-3" aria-label="Task configuration">
      {existingSlug && <input type="hidden" name="existingSlug" value={existingSlug} />}
      {FIELDS.map((field) => {
        const error = state?.fieldErrors?.[field.name];
        const common = {
          id: `task-${field.name}`,
          name: field.name,
          defaultValue: initial[field.name] ?? "",
          disabled: field.name === "slug" && Boolean(existingSlug),
          className: "w-full rounded border border-slate-300 px-2 py-1 text-sm",
          "aria-invalid": error ? true : undefined,
        };
        return (
          <div key={field.name}>
            <label htmlFor={common.id} className="block text-sm font-medium">{field.label}</label>
            {field.options ? (
              <select {...common}>{field.options.map((option) => <option key={option} value={option}>{option || "(natural)"}</option>)}</select>
            ) : field.textarea ? (
              <textarea {...common} rows={field.name === "description" ? 4 : 2} />
            ) : (
              <input {...common} type={field.type ?? "text"} step={field.type === "number" ? "any" : undefined} />
            )}
            {field.hint && <p className="text-xs text-slate-500">{field.hint}</p>}
            {error && <p className="text-xs text-red-700">{error.join("; ")}</p>}
          </div>
        );
      })}
      <div className="flex items-center gap-3">
        <button type="submit" disabled={pending} className="rounded bg-blue-600 px-3 py-1.5 text-sm font-medium text-white disabled:opacity-50">
          {pending ? "Saving…" : existingSlug ? "Save" : "Create task"}
        </button>
        {state && <span role="status" className={`text-sm ${state.ok ? "text-emerald-700" : "text-red-700"}`}>{state.message}</span>}
      </div>
    </form>
  );
}
