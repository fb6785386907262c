/** The text in a server component's element tree (host elements and the children passed to components). */
export function textOf(node: unknown): string {
  if (node === null || node === undefined || typeof node === "boolean") return "";
  if (typeof node === "string" || typeof node === "number") return String(node);
  if (Array.isArray(node)) return node.map(textOf).join(" ");
  const props = (node as { props?: { children?: unknown; title?: unknown } }).props;
  return props ? `${textOf(props.title)} ${textOf(props.children)}` : "";
}
