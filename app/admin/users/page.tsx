import { moveUserToTeamAction, resetTeamQuotaAction, setMaxTeamSizeAction, setUserDisabledAction, setUserRoleAction } from "@/app/admin/actions";
import { ActionButton } from "@/components/admin/action-button";
import { MaxTeamSizeForm } from "@/components/admin/max-team-size-form";
import { TeamPicker } from "@/components/admin/team-picker";
import { Card } from "@/components/site/form-parts";
import { ScrollTable } from "@/components/site/scroll-table";
import { requireAdminSession } from "@/lib/admin/authorize";
import { listTeams, listUsers } from "@/lib/admin/people";
import { eventSettings } from "@/lib/teams/event-settings";

export const dynamic = "force-dynamic";
export const metadata = { title: "Users and teams · Admin" };

export default async function AdminUsersPage() {
  const actor = await requireAdminSession();
  const [users, teams, settings] = await Promise.all([listUsers(actor), listTeams(actor), eventSettings()]);
  return (
    <div className="space-y-8">
      <section className="space-y-2">
        <h1 className="text-2xl font-semibold">Users</h1>
        <Card>
          <ScrollTable label="Users">
            <table className="w-full text-sm">
              <thead><tr className="border-b border-slate-200 text-left text-xs uppercase text-slate-500"><th className="p-2">User</th><th className="p-2">Role</th><th className="p-2">Team</th><th className="p-2">Account</th></tr></thead>
              <tbody>
                {users.map((user) => (
                  <tr key={user.id} className="border-b border-slate-200" data-testid={`user-${user.id}`}>
                    <td className="p-2">{user.name} · {user.email}</td>
                    <td className="p-2">
                      {user.role.toLowerCase()}{" "}
                      {user.id !== actor.id && <ActionButton action={setUserRoleAction} fields={{ userId: String(user.id), role: user.role === "ADMIN" ? "PARTICIPANT" : "ADMIN" }} label={user.role === "ADMIN" ? "Make participant" : "Make organiser"} />}
                    </td>
                    <td className="p-2"><TeamPicker action={moveUserToTeamAction} userId={user.id} teamId={user.team?.id ?? null} teams={teams.map(({ id, name }) => ({ id, name }))} /></td>
                    <td className="p-2">
                      {user.disabled ? "disabled " : "active "}
                      {user.id !== actor.id && <ActionButton action={setUserDisabledAction} fields={{ userId: String(user.id), value: user.disabled ? "off" : "on" }} label={user.disabled ? "Enable" : "Disable"} tone={user.disabled ? "default" : "danger"} />}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollTable>
        </Card>
      </section>
      <section className="space-y-2">
        <h2 className="text-xl font-semibold">Teams</h2>
        <Card>
          <MaxTeamSizeForm action={setMaxTeamSizeAction} current={settings.maxTeamSize} />
        </Card>
        <Card>
          <ScrollTable label="Teams">
            <table className="w-full text-sm">
              <thead><tr className="border-b border-slate-200 text-left text-xs uppercase text-slate-500"><th className="p-2">Team</th><th className="p-2">Members</th><th className="p-2">Submissions today</th><th className="p-2"><span className="sr-only">Actions</span></th></tr></thead>
              <tbody>
                {teams.map((team) => (
                  <tr key={team.id} className="border-b border-slate-200">
                    <td className="p-2">{team.name}</td><td className="p-2">{team.members}</td><td className="p-2">{team.submissionsToday}</td>
                    <td className="p-2"><ActionButton action={resetTeamQuotaAction} fields={{ teamId: String(team.id) }} label="Reset today's quota" /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollTable>
        </Card>
      </section>
    </div>
  );
}
