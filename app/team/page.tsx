import { CopyButton } from "@/components/site/copy-button";
import { Card } from "@/components/site/form-parts";
import { LocalTime } from "@/components/site/local-time";
import { CreateTeamForm, JoinTeamForm, LeaveTeamForm } from "@/components/team/team-forms";
import { TeamChangesClosedNotice, TeamRulesCard } from "@/components/team/team-rules";
import { TeamWebhookCard } from "@/components/webhooks/team-webhook-card";
import { requireUser } from "@/lib/auth/session";
import { publicBaseUrl } from "@/lib/http/public-url";
import { inviteLink, teamChangeRules, teamOfUser } from "@/lib/teams/membership";

export const dynamic = "force-dynamic";
export const metadata = { title: "Team" };

export default async function TeamPage() {
  const user = await requireUser("/team");
  const [team, baseUrl] = await Promise.all([teamOfUser(user), publicBaseUrl()]);
  const rules = await teamChangeRules(user, team?.id ?? null);

  if (!team) {
    return (
      <div className="space-y-6">
        <h1 className="text-2xl font-semibold">Your team</h1>
        <p className="text-slate-700">You are in no team yet. Submissions belong to a team: create one, or join your team-mates&apos; with their invite code. One team per person for the event.</p>
        <TeamChangesClosedNotice rules={rules} />
        <div className="grid gap-4 md:grid-cols-2">
          <Card title="Create a team">
            <CreateTeamForm />
          </Card>
          <Card title="Join a team">
            <JoinTeamForm />
          </Card>
        </div>
        <TeamRulesCard rules={rules} />
      </div>
    );
  }

  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-semibold">
        Team <span data-testid="team-name">{team.name}</span>
      </h1>
      <div className="grid gap-4 md:grid-cols-3">
        <Card title="Invite your team-mates" className="md:col-span-1">
          <p className="text-sm text-slate-600">Send them this link: it asks them to sign in (or sign up), then to join.</p>
          <p className="mt-2 select-all break-all rounded-md bg-slate-100 px-3 py-2 font-mono text-xs" data-testid="invite-link">
            {inviteLink(baseUrl, team.inviteCode)}
          </p>
          <CopyButton text={inviteLink(baseUrl, team.inviteCode)} label="Copy invite link" className="mt-2" testId="copy-invite-link" />
          <p className="mt-4 text-sm text-slate-600">Or they paste this code on their team page:</p>
          <p className="mt-2 select-all rounded-md bg-slate-100 px-3 py-2 font-mono text-lg" data-testid="invite-code">
            {team.inviteCode}
          </p>
          <CopyButton text={team.inviteCode} label="Copy code" className="mt-2" testId="copy-invite-code" />
        </Card>
        <Card title={rules.maxTeamSize === null ? `Members (${team.members.length})` : `Members (${team.members.length} of at most ${rules.maxTeamSize})`} className="md:col-span-2">
          <ul className="divide-y divide-slate-100" data-testid="team-members">
            {team.members.map((member) => (
              <li key={member.userId} className="flex flex-wrap items-baseline justify-between gap-2 py-2">
                <span>
                  <span className="font-medium">{member.name}</span>
                  {member.isYou && <span className="ml-2 rounded bg-indigo-50 px-1.5 text-xs text-indigo-700">you</span>}
                  <span className="ml-2 text-sm text-slate-500">{member.email}</span>
                </span>
                <span className="text-xs text-slate-600">
                  joined <LocalTime iso={new Date(member.joinedAt).toISOString()} />
                </span>
              </li>
            ))}
          </ul>
        </Card>
      </div>
      <TeamRulesCard rules={rules} />
      <TeamWebhookCard user={{ ...user, team: { id: team.id, name: team.name } }} />
      <Card title="Leave the team">
        <p className="mb-3 text-sm text-slate-600">
          The team keeps its {team.submissionCount} submission(s) and its place on the leaderboards; your submissions of today keep counting against the quota of
          the team you join next.
        </p>
        {rules.closure ? <TeamChangesClosedNotice rules={rules} /> : <LeaveTeamForm teamName={team.name} />}
      </Card>
    </div>
  );
}
