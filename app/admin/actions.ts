"use server";
import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { cancelSubmission, drainWorker, rescoreTask, retrySubmission, setPrivateRevealed, setQueuePaused } from "@/lib/admin/controls";
import { moveUserToTeam, resetTeamQuota, setUserDisabled, setUserRole } from "@/lib/admin/people";
import { FormulaError } from "@goat/contracts/score-formula";
import { previewScoreFormula, type FormulaPreview } from "@/lib/admin/formula-preview";
import type { RescorePlan } from "@/lib/admin/scoring-edit";
import { saveTask } from "@/lib/tasks/editor";
import { currentUser } from "@/lib/auth/session";
import { ApiError } from "@/lib/errors";
import { maxTeamSizeSchema, setMaxTeamSize } from "@/lib/teams/event-settings";

/**
 * The organiser's controls as server actions. Each one parses its form with zod, lets the lib
 * function check that the caller is an organiser (the admin layout does not guard actions), and
 * answers a state the form shows instead of throwing.
 */
export interface ActionState {
  ok: boolean;
  message: string;
  fieldErrors?: Record<string, string[]>;
  /** what the form posted, so a refused form shows it again instead of the values it started with */
  values?: Record<string, string>;
  /** a scoring edit waiting for the organiser's confirmation: what changes, how many are re-scored */
  confirm?: RescorePlan;
}

async function run(work: () => Promise<{ message: string }>, paths: string[]): Promise<ActionState> {
  try {
    const { message } = await work();
    for (const path of paths) revalidatePath(path);
    return { ok: true, message };
  } catch (error) {
    if (error instanceof ApiError) return { ok: false, message: error.message };
    console.error("[admin action]", error);
    return { ok: false, message: "Something went wrong on our side." };
  }
}

function invalid(error: z.ZodError): ActionState {
  return { ok: false, message: "The form is not valid.", fieldErrors: z.flattenError(error).fieldErrors as Record<string, string[]> };
}

const submissionForm = z.object({ submissionId: z.coerce.number().int().positive() });
const taskForm = z.object({ slug: z.string().min(1) });
const workerForm = z.object({ workerId: z.string().min(1) });
const flagForm = z.object({ value: z.enum(["on", "off"]) });

export async function retrySubmissionAction(_state: ActionState | null, formData: FormData): Promise<ActionState> {
  const parsed = submissionForm.safeParse(Object.fromEntries(formData));
  if (!parsed.success) return invalid(parsed.error);
  return run(async () => retrySubmission(await currentUser(), parsed.data.submissionId), ["/admin"]);
}

export async function cancelSubmissionAction(_state: ActionState | null, formData: FormData): Promise<ActionState> {
  const parsed = submissionForm.safeParse(Object.fromEntries(formData));
  if (!parsed.success) return invalid(parsed.error);
  return run(async () => cancelSubmission(await currentUser(), parsed.data.submissionId), ["/admin"]);
}

export async function rescoreTaskAction(_state: ActionState | null, formData: FormData): Promise<ActionState> {
  const parsed = taskForm.safeParse(Object.fromEntries(formData));
  if (!parsed.success) return invalid(parsed.error);
  return run(async () => rescoreTask(await currentUser(), parsed.data.slug), ["/admin", `/admin/tasks/${parsed.data.slug}`]);
}

export async function setQueuePausedAction(_state: ActionState | null, formData: FormData): Promise<ActionState> {
  const parsed = flagForm.safeParse(Object.fromEntries(formData));
  if (!parsed.success) return invalid(parsed.error);
  return run(async () => setQueuePaused(await currentUser(), parsed.data.value === "on"), ["/admin"]);
}

export async function drainWorkerAction(_state: ActionState | null, formData: FormData): Promise<ActionState> {
  const parsed = workerForm.safeParse(Object.fromEntries(formData));
  if (!parsed.success) return invalid(parsed.error);
  return run(async () => drainWorker(await currentUser(), parsed.data.workerId), ["/admin"]);
}

export async function setPrivateRevealedAction(_state: ActionState | null, formData: FormData): Promise<ActionState> {
  const parsed = taskForm.merge(flagForm).safeParse(Object.fromEntries(formData));
  if (!parsed.success) return invalid(parsed.error);
  return run(async () => setPrivateRevealed(await currentUser(), parsed.data.slug, parsed.data.value === "on"), [`/admin/tasks/${parsed.data.slug}`]);
}

const userForm = z.object({ userId: z.coerce.number().int().positive() });

export async function setUserRoleAction(_state: ActionState | null, formData: FormData): Promise<ActionState> {
  const parsed = userForm.extend({ role: z.enum(["PARTICIPANT", "ADMIN"]) }).safeParse(Object.fromEntries(formData));
  if (!parsed.success) return invalid(parsed.error);
  return run(async () => setUserRole(await currentUser(), parsed.data.userId, parsed.data.role), ["/admin/users"]);
}

export async function setUserDisabledAction(_state: ActionState | null, formData: FormData): Promise<ActionState> {
  const parsed = userForm.merge(flagForm).safeParse(Object.fromEntries(formData));
  if (!parsed.success) return invalid(parsed.error);
  return run(async () => setUserDisabled(await currentUser(), parsed.data.userId, parsed.data.value === "on"), ["/admin/users"]);
}

export async function moveUserToTeamAction(_state: ActionState | null, formData: FormData): Promise<ActionState> {
  const parsed = userForm
    .extend({ teamId: z.string().transform((value) => (value === "" || value === "none" ? null : Number(value))).pipe(z.number().int().positive().nullable()) })
    .safeParse(Object.fromEntries(formData));
  if (!parsed.success) return invalid(parsed.error);
  return run(async () => moveUserToTeam(await currentUser(), parsed.data.userId, parsed.data.teamId), ["/admin/users"]);
}

export async function resetTeamQuotaAction(_state: ActionState | null, formData: FormData): Promise<ActionState> {
  const parsed = z.object({ teamId: z.coerce.number().int().positive() }).safeParse(Object.fromEntries(formData));
  if (!parsed.success) return invalid(parsed.error);
  return run(async () => resetTeamQuota(await currentUser(), parsed.data.teamId, null), ["/admin/users"]);
}

export async function setMaxTeamSizeAction(_state: ActionState | null, formData: FormData): Promise<ActionState> {
  const parsed = z.object({ maxTeamSize: maxTeamSizeSchema }).safeParse({ maxTeamSize: String(formData.get("maxTeamSize") ?? "") });
  if (!parsed.success) return invalid(parsed.error);
  return run(async () => setMaxTeamSize(await currentUser(), parsed.data.maxTeamSize), ["/admin/users", "/team"]);
}

export async function saveTaskAction(_state: ActionState | null, formData: FormData): Promise<ActionState> {
  const form: Record<string, string> = {};
  for (const [key, value] of formData) if (typeof value === "string" && !key.startsWith("$")) form[key] = value;
  const existingSlug = form.existingSlug || undefined;
  const confirmRescore = form.confirmRescore === "true";
  delete form.existingSlug;
  delete form.confirmRescore;
  let slug: string;
  let rescoring = 0;
  try {
    const result = await saveTask(await currentUser(), form, existingSlug, { confirmRescore });
    if (!result.ok) return { ok: false, message: result.message, fieldErrors: result.fieldErrors, values: form, confirm: result.confirm };
    slug = result.slug;
    rescoring = result.rescoring;
  } catch (error) {
    if (error instanceof ApiError) return { ok: false, message: error.message, values: form };
    throw error;
  }
  revalidatePath("/admin/tasks");
  revalidatePath(`/admin/tasks/${slug}`);
  if (!existingSlug) redirect(`/admin/tasks/${slug}?created=1`);
  return { ok: true, message: rescoring > 0 ? `Saved. ${rescoring} submissions are being re-scored under the new scoring.` : "Saved." };
}

const formulaPreviewForm = z.object({
  slug: z.string().min(1),
  formula: z.string().max(2_000),
  metrics: z.string().optional().transform((text) => (text ? text.split(",").map((each) => each.trim()).filter(Boolean) : undefined)),
  direction: z.enum(["MAXIMIZE", "MINIMIZE"]).optional().or(z.literal("").transform(() => undefined)),
});

export type FormulaPreviewState = { ok: true; preview: FormulaPreview } | { ok: false; message: string };

/** The task editor's formula preview: the task's current results through a formula, before it is saved. */
export async function previewScoreFormulaAction(_state: FormulaPreviewState | null, formData: FormData): Promise<FormulaPreviewState> {
  const parsed = formulaPreviewForm.safeParse(Object.fromEntries(formData));
  if (!parsed.success) return { ok: false, message: "The preview request is not valid." };
  try {
    const { slug, formula, metrics, direction } = parsed.data;
    return { ok: true, preview: await previewScoreFormula(await currentUser(), slug, formula, { metrics, direction }) };
  } catch (error) {
    if (error instanceof FormulaError || error instanceof ApiError) return { ok: false, message: error.message };
    console.error("[admin action]", error);
    return { ok: false, message: "Something went wrong on our side." };
  }
}
