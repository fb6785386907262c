import { CopyButton } from "@/components/site/copy-button";

/** The API commands with this site's real address and a real task slug, ready to paste. */
export function curlCommands(baseUrl: string, taskSlug: string, submissionId: number | string = 1): string {
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
}: {
  baseUrl: string;
  taskSlug: string;
  tokenHint?: string;
  testId?: string;
}) {
  const text = `TOKEN=${tokenHint}\n${curlCommands(baseUrl, taskSlug)}`;
  return (
    <div className="relative">
      <pre className="overflow-x-auto rounded-md bg-slate-900 p-3 pr-20 text-xs leading-relaxed text-slate-100" data-testid={testId}>
        {text}
      </pre>
      <CopyButton text={text} label="Copy commands" className="absolute right-2 top-2" testId={`copy-${testId}`} />
    </div>
  );
}
