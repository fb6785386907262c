import { notFound } from "next/navigation";
import { rescoreTaskAction, setPrivateRevealedAction } from "@/app/admin/actions";
import { ActionButton } from "@/components/admin/action-button";
import { DatasetUpload } from "@/components/admin/dataset-upload";
import { TaskForm } from "@/components/admin/task-form";
import { Card } from "@/components/site/form-parts";
import { LocalTime } from "@/components/site/local-time";
import { requireAdminSession } from "@/lib/admin/authorize";
import { liveWorkerRooms } from "@/lib/admin/worker-health";
import { taskFormValues } from "@/lib/tasks/editor";
import { taskValidation } from "@/lib/tasks/reference-model";
import { db } from "@/lib/db";
import { rescoreProgress } from "@/lib/leaderboard/board";

export const dynamic = "force-dynamic";

export async function generateMetadata({ params }: { params: Promise<{ task: string }> }) {
  return { title: `Task ${(await params).task} · Admin` };
}

export default async function EditTaskPage({ params }: { params: Promise<{ task: string }> }) {
  const { task: slug } = await params;
  const actor = await requireAdminSession();
  const values = await taskFormValues(actor, slug);
  if (!values) notFound();
  const validation = await taskValidation(actor, slug);
  const { id, privateRevealedAt, scoringVersion } = await db.task.findUniqueOrThrow({ where: { slug }, select: { id: true, privateRevealedAt: true, scoringVersion: true } });
  const rescoring = await rescoreProgress(id);
  const exportLink = (kind: string, format: string) => `/api/admin/tasks/${slug}/export?kind=${kind}&format=${format}`;
  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-semibold">Task {slug}</h1>
      <Card title="Dataset and reference model">
        <DatasetUpload slug={slug} initial={validation} />
      </Card>
      <Card title="Leaderboard">
        <p className="mb-2 text-sm" data-testid="scoring-version">
          Scoring version {scoringVersion}
          {rescoring ? ` · re-scoring ${rescoring.done} of ${rescoring.total} submissions` : ""}
        </p>
        <div className="flex flex-wrap items-center gap-3 text-sm">
          <span>Private leaderboard: {privateRevealedAt ? <>revealed <LocalTime iso={privateRevealedAt.toISOString()} /></> : "hidden"}</span>
          <ActionButton action={setPrivateRevealedAction} fields={{ slug, value: privateRevealedAt ? "off" : "on" }} label={privateRevealedAt ? "Hide private leaderboard" : "Reveal private leaderboard"} />
          <ActionButton action={rescoreTaskAction} fields={{ slug }} label="Re-score every submission" tone="danger" confirm="Re-score every scored and failed submission of this task? Their results are replaced." />
        </div>
        <p className="mt-3 text-sm">
          Export:{" "}
          {["leaderboard", "private-leaderboard", "submissions"].map((kind) => (
            <span key={kind} className="mr-3">{kind}: <a className="text-indigo-700 underline" href={exportLink(kind, "csv")}>CSV</a> / <a className="text-indigo-700 underline" href={exportLink(kind, "json")}>JSON</a></span>
          ))}
        </p>
      </Card>
      <Card title="Configuration">
        <TaskForm initial={values} existingSlug={slug} workerRooms={await liveWorkerRooms()} />
      </Card>
    </div>
  );
}
