import Link from "next/link";

/** Shown where a signed-in user without a team would submit. */
export function NoTeamNotice({ className = "text-slate-700" }: { className?: string }) {
  return (
    <p className={className}>
      You are in no team yet.{" "}
      <Link href="/team" className="text-indigo-700 underline">
        Create or join one
      </Link>{" "}
      to submit.
    </p>
  );
}
