import { ActionButton } from "@/components/admin/action-button";
import { AnnouncementForm } from "@/components/admin/announcement-form";
import { Card } from "@/components/site/form-parts";
import { RelativeTime } from "@/components/site/relative-time";
import { allAnnouncements, ANNOUNCEMENT_MAX } from "@/lib/tasks/announcements";
import { currentUser } from "@/lib/auth/session";
import { taskCatalog } from "@/lib/tasks/catalog";
import { withdrawAnnouncementAction } from "./actions";

export const dynamic = "force-dynamic";
export const metadata = { title: "Announcements · Admin · MLS-GOAT" };

export default async function AnnouncementsAdminPage() {
  const [announcements, tasks] = await Promise.all([allAnnouncements(await currentUser()), taskCatalog()]);
  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-semibold">Announcements</h1>
      <Card title="Post an announcement">
        <AnnouncementForm tasks={tasks.map((task) => ({ slug: task.slug, title: task.title }))} maxLength={ANNOUNCEMENT_MAX} />
      </Card>
      <Card title={`Posted (${announcements.length})`}>
        {announcements.length === 0 ? (
          <p className="text-sm text-slate-600">None yet.</p>
        ) : (
          <ul className="divide-y divide-slate-100" data-testid="admin-announcements">
            {announcements.map((announcement) => (
              <li key={announcement.id} className="flex flex-wrap items-start justify-between gap-3 py-3">
                <div className="min-w-0 flex-1">
                  <p className="whitespace-pre-wrap break-words text-sm">{announcement.body}</p>
                  <p className="mt-1 text-xs text-slate-500">
                    {announcement.task ?? "every task"} · {announcement.author} · <RelativeTime iso={announcement.createdAt} />
                  </p>
                </div>
                <ActionButton
                  action={withdrawAnnouncementAction}
                  fields={{ announcementId: String(announcement.id) }}
                  label="Withdraw"
                  tone="danger"
                  confirm="Withdraw this announcement? It disappears from the task pages at once."
                />
              </li>
            ))}
          </ul>
        )}
      </Card>
    </div>
  );
}
