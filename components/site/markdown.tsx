import ReactMarkdown from "react-markdown";
import rehypeSanitize from "rehype-sanitize";

/**
 * Organiser-written Markdown (task descriptions), rendered as React elements: raw HTML in the
 * text is not rendered (react-markdown drops it without rehype-raw) and rehype-sanitize's GitHub
 * schema strips anything else unsafe (javascript: links, unknown attributes). No
 * dangerouslySetInnerHTML, so it works under a strict Content-Security-Policy.
 */
export function Markdown({ text, testId }: { text: string; testId?: string }) {
  return (
    <div className="markdown text-sm leading-relaxed text-slate-800" data-testid={testId}>
      <ReactMarkdown rehypePlugins={[rehypeSanitize]} skipHtml>
        {text}
      </ReactMarkdown>
    </div>
  );
}
