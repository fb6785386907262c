import Link from "next/link";
import { Card } from "@/components/site/form-parts";
import { JoinByLinkForm } from "@/components/team/team-forms";
import { requireUser } from "@/lib/auth/session";
import { teamFullMessage } from "@/lib/teams/rules";
import { teamForInviteCode } from "@/lib/teams/membership";

export const dynamic = "force-dynamic";
export const metadata = { title: "Join a team · MLS-GOAT" };

/**
 * An invite link: signs the visitor in (and back here), then asks them to confirm. Joining is a
 * POST (the server action), never a side effect of opening the link, so a link preview or a
 * prefetch cannot put someone in a team.
 */
export default async function JoinTeamPage({ params }: { params: Promise<{ code: string }> }) {
  const { code: raw } = await params;
  const code = decodeURIComponent(raw);
  const user = await requireUser(`/team/join/${encodeURIComponent(code)}`);
  const team = await teamForInviteCode(code);

  return (
    <div className="mx-auto max-w-lg space-y-6">
      <h1 className="text-2xl font-semibold">Join a team</h1>
      <Card>
        {!team ? (
          <p className="text-slate-700" data-testid="invite-invalid">
            This invite link is not valid (the team may have been renamed or the link cut short). Ask your team-mate for a new link, or{" "}
            <Link href="/team" className="text-indigo-700 underline">
              paste their invite code on the team page
            </Link>
            .
          </p>
        ) : user.team ? (
          <p className="text-slate-700" data-testid="invite-already-in-team">
            You are already in the team <strong>{user.team.name}</strong>. One team per person: leave it on{" "}
            <Link href="/team" className="text-indigo-700 underline">
              the team page
            </Link>{" "}
            before joining <strong>{team.name}</strong>.
          </p>
        ) : team.full && team.maxTeamSize !== null ? (
          <p className="text-slate-700" data-testid="invite-team-full">
            {teamFullMessage(team.name, team.memberCount, team.maxTeamSize)} Ask them to make room, or{" "}
            <Link href="/team" className="text-indigo-700 underline">
              create your own team
            </Link>
            .
          </p>
        ) : (
          <div className="space-y-3">
            <p className="text-slate-700">
              You were invited to join <strong data-testid="invite-team-name">{team.name}</strong> ({team.memberCount} member{team.memberCount === 1 ? "" : "s"}).
              Submissions belong to the team; one team per person for the event.
            </p>
            <JoinByLinkForm inviteCode={code} teamName={team.name} />
          </div>
        )}
      </Card>
    </div>
  );
}
