import { notFound } from "next/navigation";
import { Card } from "@/components/site/form-parts";
import { SubmissionsLive } from "@/components/tasks/submissions-live";
import { TaskBreadcrumb } from "@/components/tasks/task-breadcrumb";
import { UploadForm } from "@/components/tasks/upload-form";
import { NoTeamNotice } from "@/components/team/no-team-notice";
import { requireUser } from "@/lib/auth/session";
import { taskDetail } from "@/lib/task-catalog";
import { teamSubmissionsForTask } from "@/lib/team-submissions";

export const dynamic = "force-dynamic";
export async function generateMetadata({ params }: { params: Promise<{ task: string }> }) {
  const task = await taskDetail((await params).task);
  return { title: `My submissions · ${task?.title ?? "Task not found"}` };
}

export default async function MySubmissionsPage({ params }: { params: Promise<{ task: string }> }) {
  const { task: slug } = await params;
  const user = await requireUser(`/tasks/${slug}/submissions`);
  const task = await taskDetail(slug);
  if (!task) notFound();

  return (
    <div className="space-y-6">
      <div className="space-y-1">
        <TaskBreadcrumb slug={task.slug} title={task.title} />
        <h1 className="text-2xl font-semibold">My submissions{user.team ? `: ${user.team.name}` : ""}</h1>
      </div>
      {!user.team ? (
<NoTeamNotice />
      ) : (
        <>
          {task.phase === "open" && (
            <Card title="Submit another model">
              <UploadForm taskSlug={task.slug} maxModelBytes={task.maxModelBytes} linkToSubmissions={false} />
            </Card>
          )}
          <SubmissionsLive initial={await teamSubmissionsForTask({ teamId: user.team.id }, task.slug)} />
        </>
      )}
    </div>
  );
}
