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
    fetch(leaderboardViewerUrl(taskSlug, board), { cache: "no-store", signal: controller.signal })
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
