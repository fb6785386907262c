import { headers } from "next/headers";
import Link from "next/link";
import { notFound } from "next/navigation";
import { preload } from "react-dom";
import { BestScoreChart } from "@/components/charts/best-score-chart";
import { Card } from "@/components/site/form-parts";
import { LeaderboardTable } from "@/components/tasks/leaderboard-table";
import { LeaderboardHistogram, LeaderboardViewerProvider, OwnTeamScores } from "@/components/tasks/leaderboard-viewer";
import { BoardRevealNotice } from "@/components/tasks/board-reveal-notice";
import { ShakeUpSummary } from "@/components/tasks/shake-up-summary";
import { boardExtras } from "@/lib/leaderboard/extras";
import { TaskBreadcrumb } from "@/components/tasks/task-breadcrumb";
import { holdsSessionCookie } from "@/lib/auth/session-cookie";
import { leaderboardQuerySchema, leaderboardSnapshot, pageOfBoard } from "@/lib/leaderboard/cache";
import { bestScoreOverTime } from "@/lib/leaderboard/history";
import { keptPageAudience, PAGE_RENDER_HEADER } from "@/lib/leaderboard/page-html-cache";
import { leaderboardViewerUrl } from "@/lib/leaderboard/viewer-url";
import { taskDetail } from "@/lib/tasks/catalog";

export const dynamic = "force-dynamic";
export async function generateMetadata({ params }: { params: Promise<{ task: string }> }) {
  const task = await taskDetail((await params).task);
  return { title: `Leaderboard · ${task?.title ?? "Task not found"}` };
}

type SearchParams = { board?: string; page?: string; pageSize?: string; search?: string };

/**
 * The board's first page is rendered here (pageSize rows, 100 by default); further pages are links.
 * Nothing here depends on the reader, so one render serves them all (lib/leaderboard/page-html-cache.ts):
 * a signed-in reader's own row, chart and histogram bar come from the browser (leaderboard-viewer.tsx).
 */
export default async function LeaderboardPage({ params, searchParams }: { params: Promise<{ task: string }>; searchParams: Promise<SearchParams> }) {
  const { task: slug } = await params;
  const task = await taskDetail(slug);
  if (!task) notFound();
  const revealed = task.privateRevealedAt !== null;
  const asked = await searchParams;
  const board = revealed && asked.board === "private" ? "private" : "public";
  const query = leaderboardQuerySchema.catch({ board, page: 1, pageSize: 100, search: "" }).parse({ ...asked, board });
  const [snapshot, history, requestHeaders] = await Promise.all([leaderboardSnapshot(task.slug, board, revealed), bestScoreOverTime(task.slug), headers()]);
  const leaderboard = pageOfBoard(snapshot, query, null);
  const extras = await boardExtras(snapshot, leaderboard);
  // Whether the browser has an own part to ask for: the page kept for signed-in readers, or a session cookie (checked by the viewer's answer).
  const audience = keptPageAudience(requestHeaders.get(PAGE_RENDER_HEADER));
  const signedIn = audience === null ? holdsSessionCookie(requestHeaders.get("cookie")) : audience === "member";
  // A preload hint in the page's RSC payload: the browser starts that request as React's runtime reads
  // the payload, before the page is hydrated; the component's fetch then takes the preloaded answer.
  if (signedIn) preload(leaderboardViewerUrl(task.slug, board), { as: "fetch", crossOrigin: "anonymous" });
  const pageHref = (page: number) => {
    const next = new URLSearchParams({ ...(board === "private" ? { board } : {}), ...(query.search ? { search: query.search } : {}), page: String(page) });
    if (query.pageSize !== 100) next.set("pageSize", String(query.pageSize));
    return `/tasks/${task.slug}/leaderboard?${next.toString()}`;
  };
  // The browser's clock may differ from the server's; relative times measure from this.
  const renderedAt = new Date().toISOString();
  const tab = (active: boolean) => `rounded-md px-3 py-1 text-sm ${active ? "bg-indigo-600 text-white" : "border border-slate-300 bg-white text-slate-700"}`;

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div className="space-y-1">
          <TaskBreadcrumb slug={task.slug} title={task.title} />
          <h1 className="text-2xl font-semibold">{board === "private" ? "Private leaderboard" : "Leaderboard"}</h1>
          <p className="text-sm text-slate-600">
            Best {board} score per team by {leaderboard.formula ? <span className="font-mono">{leaderboard.formula}</span> : leaderboard.metric} (
            {leaderboard.direction === "MAXIMIZE" ? "higher is better" : "lower is better"}); equal scores (to 9 decimal places) share a rank. Scoring version {leaderboard.scoringVersion}.
            {board === "private" && " Each team is ranked by its final submissions only: the ones it selected, or by default its best public ones."}
          </p>
          {board === "public" && leaderboard.frozenFrom && (
            <p className="text-sm text-sky-900" data-testid="freeze-note">
              {Date.parse(leaderboard.frozenFrom) <= Date.parse(renderedAt) ? "Frozen" : "Freezes"} at {leaderboard.frozenFrom.slice(0, 16).replace("T", " ")} UTC: scores of
              submissions made after that appear once the private leaderboard is revealed.
            </p>
          )}
        </div>
        <div className="flex flex-wrap items-center gap-3">
          {revealed && (
            <nav className="flex gap-2">
              <Link href={`/tasks/${task.slug}/leaderboard`} className={tab(board === "public")}>
                Public
              </Link>
              <Link href={`/tasks/${task.slug}/leaderboard?board=private`} className={tab(board === "private")}>
                Private
              </Link>
            </nav>
          )}
        </div>
      </div>

      <BoardRevealNotice taskSlug={task.slug} />
      {extras.shakeUp && <ShakeUpSummary shakeUp={extras.shakeUp} />}

      <LeaderboardViewerProvider taskSlug={task.slug} board={board} signedIn={signedIn} boardVersion={snapshot.version}>
        <Card>
          <form method="get" className="mb-3 flex gap-2" role="search">
            {board === "private" && <input type="hidden" name="board" value="private" />}
              <input
                type="search"
                name="search"
                defaultValue={query.search}
                placeholder="Find a team"
                aria-label="Find a team by name"
                className="w-64 rounded-md border border-slate-300 px-2 py-1 text-sm"
              />
              <button type="submit" className="rounded-md border border-slate-300 bg-white px-3 py-1 text-sm text-slate-700">
                Search
              </button>
          </form>
          <LeaderboardTable
            key={`${board}|${leaderboard.page}|${leaderboard.pageSize}|${leaderboard.search}|${snapshot.version}`}
            taskSlug={task.slug}
            board={board}
            metric={leaderboard.formula ? "score" : leaderboard.metric}
            direction={leaderboard.direction}
            rows={leaderboard.entries}
            topOfBoard={leaderboard.page === 1 && !leaderboard.search}
            pageSize={leaderboard.pageSize}
            renderedAt={renderedAt}
            statisticallyTiedTeams={leaderboard.statisticallyTiedTeams}
            scoringVersion={leaderboard.scoringVersion}
            rescoring={leaderboard.rescoring}
            emptyText={
              leaderboard.search
                ? `No team matches "${leaderboard.search}".`
                : leaderboard.rescoring
                  ? "No submission has been re-scored under the new scoring yet."
                  : "No scored submissions yet."
            }
            dayStartRanks={extras.dayStartRanks}
            reference={extras.reference}
            endsBoard={extras.endsBoard}
          />
          {leaderboard.totalPages > 1 && (
            <nav className="mt-3 flex items-center gap-3 text-sm" aria-label="Leaderboard pages" data-testid="leaderboard-pages">
              {leaderboard.page > 1 && (
                <Link href={pageHref(leaderboard.page - 1)} className="text-indigo-700 underline">
                  Previous
                </Link>
              )}
              <span className="text-slate-600">
                Page {leaderboard.page} of {leaderboard.totalPages} ({leaderboard.totalEntries} teams)
              </span>
              {leaderboard.page < leaderboard.totalPages && (
                <Link href={pageHref(leaderboard.page + 1)} className="text-indigo-700 underline">
                  Next
                </Link>
              )}
            </nav>
          )}
        </Card>

        <div className="grid gap-4 lg:grid-cols-2">
          <Card title="Best public score over time (top teams)">
            <BestScoreChart series={history} metric={leaderboard.metric} />
          </Card>
          <Card title="Distribution of best public scores">
            <LeaderboardHistogram bins={extras.histogram} metric={leaderboard.metric} />
          </Card>
          <OwnTeamScores metric={leaderboard.metric} />
        </div>
      </LeaderboardViewerProvider>
    </div>
  );
}
