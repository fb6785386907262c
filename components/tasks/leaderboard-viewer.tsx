"use client";

import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import { ScoreHistogram } from "@/components/charts/score-histogram";
import { TeamScoreChart } from "@/components/charts/team-score-chart";
import { Card } from "@/components/site/form-parts";
import { publishSignedInUser } from "@/components/site/signed-in-user";
import { markOwnBin, type ScoreBin } from "@/lib/leaderboard/score-histogram";
import type { LeaderboardViewer } from "@/lib/leaderboard/viewer";
import { leaderboardViewerUrl } from "@/lib/leaderboard/viewer-url";

/**
 * The reader's own part of the leaderboard page (lib/leaderboard/viewer.ts: who they are, their
 * team's row, its bar in the histogram, its chart), asked for once the page is in the browser: the
 * page's HTML is the same for every reader (lib/leaderboard/page-html-cache.ts). `signedIn`: the
 * request held a session cookie (or the page was kept for such readers); anyone else has no own
 * part, and asks nothing.
 */
const ViewerContext = createContext<LeaderboardViewer | null>(null);

export function useLeaderboardViewer(): LeaderboardViewer | null {
  return useContext(ViewerContext);
}

export function LeaderboardViewerProvider({
  taskSlug,
  board,
  signedIn,
  boardVersion,
  children,
}: {
  taskSlug: string;
  board: "public" | "private";
  signedIn: boolean;
  /** the board's version the page was rendered at: a page drawn again (a new scoring) asks again */
  boardVersion: string;
  children: ReactNode;
}) {
  const [viewer, setViewer] = useState<LeaderboardViewer | null>(null);
  useEffect(() => {
    if (!signedIn) return;
    const controller = new AbortController();
    // Takes the answer the page preloaded (page.tsx), when there is one: one request per page view.
    // Over the address's polling limit (a venue behind one address): again when the answer says,
    // up to VIEWER_RETRIES times, the header holding its place meanwhile rather than showing a
    // signed-in reader "Sign in".
    const ask = (retries: number): Promise<Response> =>
      fetch(leaderboardViewerUrl(taskSlug, board), { cache: "no-store", signal: controller.signal }).then((response) =>
        response.status === 429 && retries > 0 ? wait(retryAfterMs(response), controller.signal).then(() => ask(retries - 1)) : response,
      );
    ask(VIEWER_RETRIES)
      .then((response) => (response.ok ? (response.json() as Promise<LeaderboardViewer>) : null))
      .then(
        (answer) => {
          setViewer(answer);
          publishSignedInUser(answer?.user ?? null);
        },
        () => {
          // Aborted (the page moved on) or the network failed: the page stays as anyone sees it.
          if (!controller.signal.aborted) publishSignedInUser(null);
        },
      );
    return () => controller.abort();
  }, [taskSlug, board, signedIn, boardVersion]);
  return <ViewerContext.Provider value={viewer}>{children}</ViewerContext.Provider>;
}

const VIEWER_RETRIES = 3;

/** A 429's Retry-After in ms, within 1-60 s (5 s when it gives none). */
function retryAfterMs(response: Response): number {
  const seconds = Number(response.headers.get("retry-after"));
  return Math.min(60, Math.max(1, Number.isFinite(seconds) && seconds > 0 ? seconds : 5)) * 1000;
}

/** Resolves after `ms`, or rejects as soon as the signal aborts (the page moved on). */
function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** The histogram of best public scores, the reader's team's bar marked. */
export function LeaderboardHistogram({ bins, metric }: { bins: ScoreBin[]; metric: string }) {
  const viewer = useLeaderboardViewer();
  return <ScoreHistogram bins={markOwnBin(bins, viewer?.ownPublicScore ?? null)} metric={metric} ownTeam={viewer?.user?.team?.name ?? null} />;
}

/** Every scored submission of the reader's team, once known; nothing for anyone else. */
export function OwnTeamScores({ metric }: { metric: string }) {
  const viewer = useLeaderboardViewer();
  if (!viewer?.ownScores) return null;
  return (
    <Card title="Your team's submissions">
      <TeamScoreChart points={viewer.ownScores} metric={metric} />
    </Card>
  );
}
