"use client";

import { useState } from "react";
import { Card } from "@/components/site/form-parts";
import type { FinalSelection } from "@/lib/leaderboard/finals";
import { FinalToggle, FinalsSummary } from "./final-selection";

/** The submission page's "final submission" card: the team's selection and this submission's toggle. */
export function SubmissionFinalCard({ taskSlug, submissionId, initial }: { taskSlug: string; submissionId: number; initial: FinalSelection }) {
  const [finals, setFinals] = useState(initial);
  return (
    <Card title="Final submission">
      <div className="space-y-2">
        <FinalToggle taskSlug={taskSlug} submissionId={submissionId} finals={finals} onChanged={setFinals} />
        <FinalsSummary finals={finals} />
      </div>
    </Card>
  );
}
