/** One colour per submission status, shared by the list and the detail page. */
export const STATUS_STYLE: Record<"QUEUED" | "RUNNING" | "SCORED" | "FAILED" | "CANCELLED", string> = {
  QUEUED: "bg-sky-100 text-sky-800",
  RUNNING: "bg-amber-100 text-amber-900",
  SCORED: "bg-green-100 text-green-800",
  FAILED: "bg-red-100 text-red-800",
  CANCELLED: "bg-slate-200 text-slate-700",
};
