import { notFound } from "next/navigation";
import { AnnouncementFeed } from "@/components/announcements/announcement-feed";
import { Card } from "@/components/site/form-parts";
import { SubmissionsLive } from "@/components/tasks/submissions-live";
import { TaskBreadcrumb } from "@/components/tasks/task-breadcrumb";
import { UploadForm } from "@/components/tasks/upload-form";
import { NoTeamNotice } from "@/components/team/no-team-notice";
import { requireUser } from "@/lib/auth/session";
import { taskDetail } from "@/lib/tasks/catalog";
import { announcementsForTask } from "@/lib/tasks/announcements";
import { parseTeamSubmissionsQuery, teamSubmissionsForTask } from "@/lib/submissions/team-list";

export const dynamic = "force-dynamic";
export async function generateMetadata({ params }: { params: Promise<{ task: string }> }) {
  const task = await taskDetail((await params).task);
  return { title: `My submissions · ${task?.title ?? "Task not found"}` };
}

export default async function MySubmissionsPage({
  params,
  searchParams,
}: {
  params: Promise<{ task: string }>;
  searchParams?: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { task: slug } = await params;
  const query = parseTeamSubmissionsQuery((await searchParams) ?? {});
  const user = await requireUser(`/tasks/${slug}/submissions`);
  const task = await taskDetail(slug);
  if (!task) notFound();

  return (
    <div className="space-y-6">
      <div className="space-y-1">
        <TaskBreadcrumb slug={task.slug} title={task.title} />
        <h1 className="text-2xl font-semibold">My submissions{user.team ? `: ${user.team.name}` : ""}</h1>
      </div>
      <AnnouncementFeed taskSlug={task.slug} initial={await announcementsForTask(task.slug)} />
      {!user.team ? (
        <NoTeamNotice />
      ) : (
        <>
          {task.phase === "open" && (
            <Card title="Submit another model">
              <UploadForm taskSlug={task.slug} maxModelBytes={task.maxModelBytes} linkToSubmissions={false} />
            </Card>
          )}
          {/* keyed by the view, so a new filter or page starts from the server's rows */}
          <SubmissionsLive key={`${query.status}-${query.page}`} initial={await teamSubmissionsForTask({ teamId: user.team.id }, task.slug, query)} />
        </>
      )}
    </div>
  );
}
