import { CopyButton } from "@/components/site/copy-button";

/**
 * The API commands with this site's real address and a real task slug, ready to paste. The status
 * line names the team's latest submission when there is one (ids are global, so "1" would answer
 * 404 for every team but the first); otherwise the id the upload answers.
 */
export function curlCommands(baseUrl: string, taskSlug: string, submissionId: number | string = "$SUBMISSION_ID"): string {
  return [
    `curl -X POST ${baseUrl}/submit/${taskSlug} -H "Authorization: Bearer $TOKEN" -F "file=@model.onnx"`,
    `curl ${baseUrl}/submit/queue/status -H "Authorization: Bearer $TOKEN"`,
    `curl ${baseUrl}/submit/${taskSlug}/status/${submissionId} -H "Authorization: Bearer $TOKEN"`,
    `curl ${baseUrl}/api/tasks/${taskSlug}/leaderboard`,
  ].join("\n");
}

export function CurlCommands({
  baseUrl,
  taskSlug,
  tokenHint = "YOUR_TOKEN",
  testId = `curl-${taskSlug}`,
  latestSubmissionId = null,
}: {
  baseUrl: string;
  taskSlug: string;
  tokenHint?: string;
  testId?: string;
  latestSubmissionId?: number | null;
}) {
  const idLine = latestSubmissionId === null ? `SUBMISSION_ID=... # the "id" the upload answers\n` : "";
  const text = `TOKEN=${tokenHint}\n${idLine}${curlCommands(baseUrl, taskSlug, latestSubmissionId ?? undefined)}`;
  return (
    <div className="relative">
      {/* Wraps rather than widening the page on a phone (long lines break anywhere, even inside a URL). */}
      <pre className="whitespace-pre-wrap break-all rounded-md bg-slate-900 p-3 pr-20 text-xs leading-relaxed text-slate-100" data-testid={testId}>
        {text}
      </pre>
      <CopyButton text={text} label="Copy commands" className="absolute right-2 top-2" testId={`copy-${testId}`} />
    </div>
  );
}
