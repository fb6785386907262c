import Link from "next/link";
import { notFound } from "next/navigation";
import { Card } from "@/components/site/form-parts";
import { SubmissionsLive } from "@/components/tasks/submissions-live";
import { UploadForm } from "@/components/tasks/upload-form";
import { requireUser } from "@/lib/auth/session";
import { taskDetail } from "@/lib/task-catalog";
import { teamSubmissionsForTask } from "@/lib/team-submissions";

export const dynamic = "force-dynamic";
export const metadata = { title: "My submissions · MLS-GOAT" };

export default async function MySubmissionsPage({ params }: { params: Promise<{ task: string }> }) {
  const { task: slug } = await params;
  const user = await requireUser(`/tasks/${slug}/submissions`);
  const task = await taskDetail(slug);
  if (!task) notFound();

  return (
    <div className="space-y-6">
      <div className="space-y-1">
        <p className="text-sm">
          <Link href={`/tasks/${task.slug}`} className="text-indigo-700 underline">
            {task.title}
          </Link>
        </p>
        <h1 className="text-2xl font-semibold">My submissions{user.team ? `: ${user.team.name}` : ""}</h1>
      </div>
      {!user.team ? (
        <p className="text-slate-700">
          You are in no team yet.{" "}
          <Link href="/team" className="text-indigo-700 underline">
            Create or join one
          </Link>{" "}
          to submit.
        </p>
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
